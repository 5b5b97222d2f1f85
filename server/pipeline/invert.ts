// "Edit this photo": a photo's semantic layout as class ids and as vector polygons the plugin
// turns into shapes. The parser reads the classes; contours.ts traces them.
import { JobFailure } from "../failure.ts";
import { traceClassMap, type ClassPolygon } from "./contours.ts";
import { type GenerateHooks, type StageTimings, checkFace, GenerationAborted, stopwatch } from "./generate.ts";
import type { RgbImage } from "./photo.ts";
import type { PackRuntime } from "./runtime.ts";

export interface InvertOutput {
  width: number;
  height: number;
  /** Class id a pixel, R x R, row-major. */
  classMap: Uint8Array;
  /** Largest first: painting them in order rebuilds the map. The background class is left out. */
  polygons: ClassPolygon[];
  /** Regions too small to become shapes. */
  dropped: number;
  timings: StageTimings;
}

/** The pack's background class: where nothing else is, so it needs no shapes. */
export function backgroundId(rt: PackRuntime): number | null {
  return rt.pack.manifest.classes.find((c) => c.name === "background")?.id ?? null;
}

export async function invertPhoto(rt: PackRuntime, photo: RgbImage, hooks: GenerateHooks = {}): Promise<InvertOutput> {
  if (!rt.runner.has("parser")) throw new JobFailure("unsupported_feature", `Pack ${rt.pack.name} has no parser network, so it cannot read a photo's layout.`);
  const timings: StageTimings = {};
  const lap = stopwatch();
  hooks.onStage?.("reading", 0);
  const classMap = (await checkFace(rt, photo, timings, lap))!;
  if (hooks.signal?.aborted) throw new GenerationAborted();
  hooks.onStage?.("tracing", 0);
  const bg = backgroundId(rt);
  const R = rt.pack.manifest.resolution;
  const traced = traceClassMap(classMap, R, R, { skip: bg === null ? [] : [bg] });
  timings.trace = lap();
  timings.total = Math.round(Object.values(timings).reduce((a, b) => a + b, 0) * 100) / 100;
  return { width: R, height: R, classMap, polygons: traced.polygons, dropped: traced.dropped, timings };
}
