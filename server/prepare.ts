// Request validation, before the queue: the pack, the condition's kind and size, class ids, the
// photo-source and restyle rules, then any photos decoded (in a worker) to the pack's square.
// Never throws or rejects; answers at once unless a photo must be decoded, so requests without
// photos keep their message order.
import { performance } from "node:perf_hooks";
import { DEFAULT_FIT, MAX_SEED, NO_STROKE, type ErrorCode, type Parsed, type Warning } from "../protocol/index.ts";
import type { ImageDecoder } from "./decoder.ts";
import type { InvertJobRequest, Job, JobRequest, RawCondition } from "./jobs.ts";
import { drawnFaceProblem, faceClassIds } from "./pipeline/face.ts";
import { describeClassIds, firstInvalidClassId, validClassIds } from "./pipeline/mask.ts";
import { canReadPhotoLayout, photoLayoutRoute } from "./pipeline/photo-layout.ts";
import type { RgbImage } from "./pipeline/photo.ts";
import type { GenerateInput } from "./pipeline/request.ts";
import type { PackRuntime } from "./pipeline/runtime.ts";

export interface Preparer {
  prepare(request: JobRequest): Parsed<Job> | Promise<Parsed<Job>>;
  prepareInvert(request: InvertJobRequest): Promise<Parsed<Job>>;
}

const describeIds = (rt: PackRuntime) => describeClassIds(rt.pack.manifest.classes);

function fail(code: ErrorCode, message: string, id?: string): Parsed<never> {
  return { ok: false, code, message, id };
}

/** Valid class ids plus the scribble's "nothing drawn" value. */
function withNoStroke(valid: Uint8Array): Uint8Array {
  const out = valid.slice();
  out[NO_STROKE] = 1;
  return out;
}

const CONDITION_WORDS: Record<RawCondition["kind"], string> = {
  mask: "shapes",
  sketch: "sketch",
  scribble: "scribble",
  edges: "photo's edges",
  exemplar: "exemplar photo",
};

/**
 * Fit the layout, as far as this request can have it: only a mask (the drawn class map) with new
 * faces from seeds can be compared with what the parser reads. Asked for anything else, the
 * request runs without it and says so; the default never warns. Null: refused (no parser).
 */
function fitFor(r: JobRequest, rt: PackRuntime, warnings: Warning[]): { fit?: number } | null {
  const fit = r.fit ?? DEFAULT_FIT;
  if (fit <= 1) return {};
  const why = r.condition.kind !== "mask" ? `a ${CONDITION_WORDS[r.condition.kind]} has no drawn class map` : r.source ? "a photo source makes the photo's own face" : r.restyle ? "a restyle keeps the frame's face" : null;
  if (why) {
    if (r.fit !== undefined) warnings.push({ code: "fit_not_applied", message: `Fit layout works with shapes only (${why} to compare with), so these images were made without it.` });
    return {};
  }
  if (!rt.runner.has("parser")) return r.fit !== undefined ? null : {};
  return { fit };
}

/** Validation against the packs that opened; `defaultPack` serves requests that name none. */
export function createPreparer(runtimes: ReadonlyMap<string, PackRuntime>, defaultPack: string | null, decoder: ImageDecoder): Preparer {
  const classChecks = new Map([...runtimes].map(([name, rt]) => [name, validClassIds(rt.pack.manifest.classes)]));
  const faceIds = new Map([...runtimes].map(([name, rt]) => [name, faceClassIds(rt.pack.manifest.classes)]));

  const lookup = (id: string, name: string | undefined): Parsed<PackRuntime> => {
    const rt = name ? runtimes.get(name) : undefined;
    if (!name || !rt) {
      const names = [...runtimes.keys()].join(", ") || "none";
      return fail("unknown_pack", `There is no pack named ${JSON.stringify(name ?? "")} on this server (packs: ${names}).`, id);
    }
    return { ok: true, value: rt };
  };

  /** PNG bytes -> the pack-sized square (in a worker), or the error a person can act on. */
  const photoOf = async (id: string, rt: PackRuntime, bytes: Uint8Array, what: string): Promise<Parsed<RgbImage>> => {
    const decoded = await decoder.photo(bytes, rt.pack.manifest.resolution, what);
    return decoded.ok ? decoded : fail(decoded.code, decoded.message, id);
  };

  /** Drawn conditions -> what the pipeline reads, with the warnings to send; photos are decoded later. */
  const checkDrawn = (id: string, name: string, rt: PackRuntime, cond: Exclude<RawCondition, { photo: Uint8Array }>, warnings: Warning[]): Parsed<GenerateInput["condition"]> => {
    const R = rt.pack.manifest.resolution;
    if (cond.width !== R || cond.height !== R || cond.data.length !== R * R) {
      const got = cond.data.length === cond.width * cond.height ? `${cond.width}x${cond.height}` : `${cond.data.length} bytes`;
      return fail("bad_mask_size", `Pack ${name} needs a ${R}x${R} ${cond.kind} (${R * R} bytes, one a pixel); got ${got}.`, id);
    }
    if (cond.kind === "mask" || cond.kind === "scribble") {
      const valid = cond.kind === "mask" ? classChecks.get(name)! : withNoStroke(classChecks.get(name)!);
      const bad = firstInvalidClassId(cond.data, valid);
      if (bad >= 0) {
        const extra = cond.kind === "scribble" ? `, or ${NO_STROKE} where nothing is drawn` : "";
        return fail(
          "bad_class_id",
          `Pixel (${bad % R}, ${Math.floor(bad / R)}) has class id ${cond.data[bad]}, which pack ${name} does not have (its ids: ${describeIds(rt)}${extra}).`,
          id,
        );
      }
    }
    const empty = cond.kind === "sketch" ? cond.data.every((v) => v === 0) : cond.kind === "scribble" ? cond.data.every((v) => v === NO_STROKE) : false;
    if (empty) return fail("empty_condition", `The ${cond.kind} has nothing drawn in it; draw some strokes first.`, id);
    const noFace = cond.kind === "sketch" ? null : drawnFaceProblem(cond.data, faceIds.get(name)!);
    if (noFace) warnings.push({ code: "no_face_drawn", message: noFace });
    return { ok: true, value: cond.kind === "sketch" ? { kind: "sketch", data: Uint8Array.from(cond.data, (v) => (v ? 1 : 0)) } : { kind: cond.kind, data: cond.data } };
  };

  const prepare = (r: JobRequest): Parsed<Job> | Promise<Parsed<Job>> => {
    const id = r.requestId;
    const name = r.pack ?? defaultPack ?? undefined;
    const found = lookup(id, name);
    if (!found.ok) return found;
    const rt = found.value;
    const m = rt.pack.manifest;
    const cond = r.condition;
    const mapperKind = cond.kind === "exemplar" ? null : cond.kind;
    if (mapperKind && !m.conditions.some((c) => c.kind === mapperKind)) {
      return fail("unsupported_condition", `Pack ${name} does not accept ${mapperKind} conditions (it takes ${m.conditions.map((c) => c.kind).join(", ")}).`, id);
    }
    if (cond.kind === "exemplar" && !canReadPhotoLayout(rt)) {
      return fail("unsupported_condition", `Pack ${name} has no ${photoLayoutRoute(rt)}, so it cannot take a layout from a photo.`, id);
    }
    if (r.source && !rt.runner.has("encoder")) {
      return fail("unsupported_feature", `Pack ${name} has no encoder, so it cannot generate with a photo's identity.`, id);
    }
    if (r.source && !r.restyle && r.variations !== 1) {
      return fail("bad_message", "A photo source makes one image (the photo's own face); ask for variations: 1.", id);
    }
    let restyle: GenerateInput["restyle"];
    if (r.restyle) {
      const valid = classChecks.get(name!)!;
      const unknown = r.restyle.classes.filter((c) => !valid[c]);
      if (unknown.length) return fail("bad_class_id", `Restyle names class id ${unknown.join(", ")}, which pack ${name} does not have (its ids: ${describeIds(rt)}).`, id);
      if (cond.kind !== "mask" && !rt.runner.has("parser")) {
        return fail("unsupported_feature", `Pack ${name} has no parser, so it can restyle a region only with a shapes (mask) condition.`, id);
      }
      restyle = { classes: [...new Set(r.restyle.classes)], seed: r.restyle.seed };
    }
    const warnings: Warning[] = [];
    const fitted = fitFor(r, rt, warnings);
    if (!fitted) return fail("unsupported_feature", `Pack ${name} has no parser, so it cannot fit the layout; generate without fit.`, id);
    const made = r.variations * (fitted.fit ?? 1);
    if (r.seed + made - 1 > MAX_SEED) {
      const last = r.seed + made - 1 - (MAX_SEED + 1);
      const what = fitted.fit ? "these candidates" : "these variations";
      warnings.push({ code: "seeds_wrapped", message: `Seeds go up to ${MAX_SEED} and then start again at 0: ${what} use seeds ${r.seed} to ${MAX_SEED}, then 0 to ${last}.` });
    }
    const job = (condition: GenerateInput["condition"], source: GenerateInput["source"], decodeMs?: number): Parsed<Job> => ({
      ok: true,
      value: {
        requestId: id,
        pack: name!,
        decodeMs,
        ...(warnings.length ? { warnings } : {}),
        task: { kind: "generate", input: { condition, seed: r.seed, variations: r.variations, truncation: r.truncation, source, restyle, ...fitted } },
      },
    });
    const drawn = "photo" in cond ? null : checkDrawn(id, name!, rt, cond, warnings);
    if (drawn && !drawn.ok) return drawn;
    // Without photos the answer is ready now (and in message order); photos wait for the decode worker.
    if (drawn && !r.source) return job(drawn.value, undefined);
    return (async () => {
      const started = performance.now();
      let condition = drawn?.value;
      if ("photo" in cond) {
        const photo = await photoOf(id, rt, cond.photo, "The photo");
        if (!photo.ok) return photo;
        condition = { kind: cond.kind, photo: photo.value };
      }
      let source: GenerateInput["source"];
      if (r.source) {
        const photo = await photoOf(id, rt, r.source, "The source photo");
        if (!photo.ok) return photo;
        source = { photo: photo.value };
      }
      return job(condition!, source, performance.now() - started);
    })();
  };

  const prepareInvert = async (r: InvertJobRequest): Promise<Parsed<Job>> => {
    const id = r.requestId;
    const name = r.pack ?? defaultPack ?? undefined;
    const found = lookup(id, name);
    if (!found.ok) return found;
    const rt = found.value;
    if (!rt.runner.has("parser")) return fail("unsupported_feature", `Pack ${name} has no parser, so it cannot read a photo's layout.`, id);
    const started = performance.now();
    const photo = await photoOf(id, rt, r.photo, "The photo");
    if (!photo.ok) return photo;
    return { ok: true, value: { requestId: id, pack: name!, decodeMs: performance.now() - started, task: { kind: "invert", photo: photo.value } } };
  };

  return { prepare, prepareInvert };
}
