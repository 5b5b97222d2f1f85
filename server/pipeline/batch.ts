// Several requests of one pack through each network in one run: the drawn-layout path of
// generate.ts (mask / sketch / scribble / photo edges -> mapper -> seeds -> g1 -> proxy ->
// rearranger -> g2), with the requests' images concatenated along the batch axis and split
// again at the end. generate() runs a single drawn request through here too, so a request gives
// the same bytes alone or batched (ONNX Runtime's CPU kernels treat batch items independently;
// test/server/batch.test.ts checks it). Exemplars, source photos and restyles run alone.
// A mask request with fit k makes k candidates per image and keeps the closest (fit.ts).
import { edgesFromRgb } from "./canny.ts";
import { bestIndices, scoreCandidates } from "./fit.ts";
import { keepAgreeing, keepsUnchanged } from "./keep.ts";
import { GenerationAborted, stopwatch, type GenerateHooks, type StageTimings } from "./hooks.ts";
import { encodeRgbaPng, imageToRgba } from "./image.ts";
import type { RgbImage } from "./photo.ts";
import { repeatEach, type ProxyMask } from "./proxy-mask.ts";
import { variationSeeds } from "./prng.ts";
import { conditionOf, type GenerateInput } from "./request.ts";
import type { PackRuntime } from "./runtime.ts";
import { conditionLogits, logitsToProxy, proxyOf, rearrange, render, seedFeatures } from "./stages.ts";

/** A request that can share a run: a layout drawn (or a photo's edges), new faces from seeds. */
export interface DrawnRequest {
  condition: { kind: "mask" | "sketch" | "scribble"; data: Uint8Array } | { kind: "edges"; photo: RgbImage };
  seed: number;
  variations: number;
  truncation?: number;
  /** Candidates per kept image (mask conditions only); absent or 1: every image is kept. */
  fit?: number;
}

export interface BatchImage {
  seed: number;
  width: number;
  height: number;
  png: Uint8Array;
  /** The parser's layout mIoU against the drawn mask, when the request fitted the layout. */
  fitScore?: number;
}

/** One result per request; the timings are the whole run's. */
export interface BatchOutput {
  images: BatchImage[];
  timings: StageTimings;
}

/** The request as one that can share a run, or null when it must run alone (photos, restyle). */
export function asDrawnRequest(input: GenerateInput): DrawnRequest | null {
  if (input.source || input.restyle) return null;
  const condition = conditionOf(input);
  if (condition.kind === "exemplar") return null;
  const fit = condition.kind === "mask" && input.fit && input.fit > 1 ? input.fit : undefined;
  return { condition, seed: input.seed, variations: input.variations, truncation: input.truncation, ...(fit ? { fit } : {}) };
}

/** Images a request makes before any are dropped: its variations, times its fit. */
export function candidateCount(r: Pick<DrawnRequest, "variations" | "fit">): number {
  return r.variations * (r.fit ?? 1);
}

/** Runs the requests together; hooks[i] are request i's (progress, cancellation). */
export async function generateBatch(rt: PackRuntime, requests: readonly DrawnRequest[], hooks: readonly GenerateHooks[] = []): Promise<BatchOutput[]> {
  const m = rt.pack.manifest;
  const R = m.resolution;
  const timings: StageTimings = {};
  const lap = stopwatch();
  const stage = (s: "mapping" | "generating" | "encoding") => hooks.forEach((h) => h.onStage?.(s, 0));
  // Stop only when every member has gone: the others still want their images.
  const check = () => {
    if (hooks.length === requests.length && hooks.every((h) => h.signal?.aborted)) throw new GenerationAborted();
  };

  // ---- target layouts: one mapper run per condition kind over that kind's requests
  stage("mapping");
  const bytes = requests.map((r) => (r.condition.kind === "edges" ? edgesFromRgb(r.condition.photo.rgb, r.condition.photo.width, r.condition.photo.height) : r.condition.data));
  if (requests.some((r) => r.condition.kind === "edges")) timings.edges = lap();
  const targets: ProxyMask[] = new Array(requests.length);
  for (const kind of new Set(requests.map((r) => r.condition.kind))) {
    const members = requests.flatMap((r, i) => (r.condition.kind === kind ? [i] : []));
    const data = concatBytes(members.map((i) => bytes[i]));
    const logits = await conditionLogits(rt, kind, data, members.length);
    timings.condition = (timings.condition ?? 0) + lap();
    const proxy = logitsToProxy(logits);
    const plane = proxy.h * proxy.w;
    members.forEach((i, j) => (targets[i] = { n: 1, h: proxy.h, w: proxy.w, data: proxy.data.subarray(j * plane, (j + 1) * plane) }));
    timings.argmax = (timings.argmax ?? 0) + lap();
  }
  check();

  // ---- every request's seeds (with fit, its candidates') in one column, each row with its request's truncation
  stage("generating");
  const counts = requests.map(candidateCount);
  const seeds = requests.flatMap((r, i) => variationSeeds(r.seed, counts[i]));
  const truncations = requests.flatMap((r, i) => new Array<number>(counts[i]).fill(r.truncation ?? m.truncation));
  const g = await seedFeatures(rt, seeds, truncations, timings, lap, check);
  check();
  const sourceProxy = await proxyOf(rt, g.features);
  timings.proxy = lap();
  const target = repeatEach(concatMasks(targets), counts);
  let features = await rearrange(rt, g.features, sourceProxy, target);
  if (keepsUnchanged(m, "seeds")) features = keepAgreeing(features, g.features, sourceProxy, target);
  timings.rearranger = lap();
  check();
  const image = await render(rt, features, g.style);
  timings.g2 = lap();
  check();

  // ---- pixels; fit requests keep their candidates closest to the drawing, best first
  const total = image.dims[0];
  const data = image.data as Float32Array;
  const rgba = seeds.map((_, i) => imageToRgba(data, total, R, R, i));
  const rgbaMs = lap();
  const kept = await keptImages(rt, requests, counts, rgba);
  if (requests.some((r) => r.fit)) timings.fit = lap();
  check();

  // ---- PNGs of the kept images, per request
  stage("encoding");
  const images = kept.map((list) =>
    list.map(({ index, fitScore }): BatchImage => ({ seed: seeds[index], width: R, height: R, png: encodeRgbaPng(rgba[index], R, R), ...(fitScore !== undefined ? { fitScore } : {}) })),
  );
  timings.encode = rgbaMs + lap();
  timings.total = Math.round(Object.values(timings).reduce((a, b) => a + b, 0) * 100) / 100;
  return images.map((list) => ({ images: list, timings }));
}

/** Per request, which rows of the run it keeps: all of them, or with fit the best `variations` by the parser. */
async function keptImages(rt: PackRuntime, requests: readonly DrawnRequest[], counts: readonly number[], rgba: readonly Uint8Array[]) {
  const out: { index: number; fitScore?: number }[][] = [];
  let at = 0;
  for (const [i, r] of requests.entries()) {
    const first = at;
    at += counts[i];
    const rows = Array.from({ length: counts[i] }, (_, j) => first + j);
    if (!r.fit || r.condition.kind !== "mask") {
      out.push(rows.map((index) => ({ index })));
      continue;
    }
    const scores = await scoreCandidates(rt, rgba.slice(first, at), r.condition.data);
    out.push(bestIndices(scores, r.variations).map((j) => ({ index: first + j, fitScore: Math.round(scores[j] * 1e4) / 1e4 })));
  }
  return out;
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

function concatMasks(masks: readonly ProxyMask[]): ProxyMask {
  const { h, w } = masks[0];
  const data = new BigInt64Array(masks.reduce((a, k) => a + k.data.length, 0));
  let at = 0;
  for (const k of masks) {
    data.set(k.data, at);
    at += k.data.length;
  }
  return { n: data.length / (h * w), h, w, data };
}
