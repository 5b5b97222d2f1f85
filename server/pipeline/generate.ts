// The whole pipeline for one request, composed from stages.ts, the N variations batched through
// each network in one run. Deterministic: the same input gives the same PNG bytes.
//
//   target layout (proxy mask P_t), once:
//     mask / sketch / scribble -> mapper.<kind> -> argmax
//     edges (a photo)          -> Canny (canny.ts) -> mapper.edges -> argmax
//     exemplar (a photo)       -> its layout by the pack's photoLayout route (photo-layout.ts):
//                                 parser -> mapper.mask -> argmax, or encoder -> F -> proxy
//   appearance F, style:
//     seeds s..s+N-1 -> mapping -> g1                    (new faces)
//     source photo   -> encoder                          (the photo's identity, one image)
//   F, P_s, P_t -> rearranger -> F'   (P_s: proxy(F) for seeds; the photoLayout route for a source photo,
//                                      whose own F is kept where P_s and P_t agree, and seeds' F too
//                                      where the pack's keepUnchanged is "all": keep.ts)
//   restyle {classes, seed}: F'' = blend(F', F'_r, region of those classes), where F'_r comes from
//     seeds r..r+N-1 rearranged into the same P_t, and the region from the mask condition or,
//     for other conditions, from parsing the first render; the main style is kept.
//   g2(F' or F'', style) -> PNG
// A drawn layout (or edges) with new faces from seeds, the common case, runs through batch.ts,
// which also batches several such requests together.
import * as ort from "onnxruntime-node";
import { JobFailure } from "../failure.ts";
import { asDrawnRequest, generateBatch } from "./batch.ts";
import { GenerationAborted, stopwatch, type GenerateHooks, type StageTimings } from "./hooks.ts";
import { edgesFromRgb } from "./canny.ts";
import { faceClassIds, faceProblem } from "./face.ts";
import { encodeRgbaPng, imageToRgba } from "./image.ts";
import type { RgbImage } from "./photo.ts";
import { tileMask, type ProxyMask } from "./proxy-mask.ts";
import { variationSeeds } from "./prng.ts";
import { blendFeatures, regionWeights, tileFeatures } from "./region.ts";
import { sideRulesOf } from "./side-pairs.ts";
import { withPartners } from "./sides.ts";
import { keepAgreeing, keepsUnchanged } from "./keep.ts";
import { photoLayoutRoute, photoProxies } from "./photo-layout.ts";
import { conditionOf, type GeneratedImage, type GenerateInput, type GenerateOutput } from "./request.ts";
import type { PackRuntime } from "./runtime.ts";
import {
  conditionLogits,
  encodePhotos,
  latentsFor,
  logitsToProxy,
  mapLatents,
  parseImages,
  photoTensor,
  proxyOf,
  rearrange,
  render,
  seedFeatures,
  synthesizeFeatures,
} from "./stages.ts";

export { GenerationAborted, stopwatch, type GenerateHooks, type StageTimings, type VisibleStage } from "./hooks.ts";

/** Refuses a photo the parser finds no face in (JobFailure no_face). No parser: contrast only. */
export async function checkFace(rt: PackRuntime, photo: RgbImage, timings: StageTimings, lap: () => number): Promise<Uint8Array | null> {
  const hasParser = rt.runner.has("parser");
  const classMap = hasParser ? (await parseImages(rt, photoTensor([photo])))[0] : null;
  timings.parser = (timings.parser ?? 0) + lap();
  const problem = faceProblem(photo, classMap, faceClassIds(rt.pack.manifest.classes));
  if (problem) throw new JobFailure("no_face", problem);
  return classMap;
}

function requireNetwork(rt: PackRuntime, key: string, what: string): void {
  if (!rt.runner.has(key)) throw new JobFailure("unsupported_feature", `Pack ${rt.pack.name} has no ${key} network, so it cannot ${what}.`);
}

export async function generate(rt: PackRuntime, input: GenerateInput, hooks: GenerateHooks = {}): Promise<GenerateOutput> {
  const m = rt.pack.manifest;
  const R = m.resolution;
  const n = input.variations;
  const truncation = input.truncation ?? m.truncation;
  const timings: StageTimings = {};
  const lap = stopwatch();
  // Between stages: a cancelled or timed-out request stops using the CPU as soon as it can.
  const check = () => {
    if (hooks.signal?.aborted) throw new GenerationAborted();
  };
  const drawn = asDrawnRequest(input);
  if (drawn) return (await generateBatch(rt, [drawn], [hooks]))[0];
  const condition = conditionOf(input);
  const photoIn = condition.kind === "exemplar" || input.source;
  if (photoIn) hooks.onStage?.("reading", 0);

  // ---- the target layout, once for the whole batch
  let target: ProxyMask;
  if (condition.kind === "exemplar") {
    const route = photoLayoutRoute(rt);
    requireNetwork(rt, route === "parser" ? "parser" : "encoder", "take a layout from a photo");
    const classMap = await checkFace(rt, condition.photo, timings, lap);
    check();
    if (route === "parser") {
      target = await photoProxies(rt, { classMaps: [classMap!] });
    } else {
      const { features } = await encodePhotos(rt, photoTensor([condition.photo]));
      timings.encoder = lap();
      target = await photoProxies(rt, { features });
    }
    timings.exemplar_proxy = lap();
  } else {
    hooks.onStage?.("mapping", 0);
    let kind: string, data: Uint8Array;
    if (condition.kind === "edges") {
      kind = "edges";
      data = edgesFromRgb(condition.photo.rgb, condition.photo.width, condition.photo.height);
      timings.edges = lap();
    } else {
      kind = condition.kind;
      data = condition.data;
    }
    const logits = await conditionLogits(rt, kind, data, 1);
    timings.condition = lap();
    target = logitsToProxy(logits);
    timings.argmax = lap();
  }
  check();

  // ---- the main appearance: one photo, or a seed per variation (one seed when restyling)
  let mainFeatures: ort.Tensor, mainStyle: ort.Tensor, mainSeeds: number[], sourceProxy: ProxyMask;
  const mainCount = input.restyle || input.source ? 1 : n;
  hooks.onStage?.("generating", 0);
  if (input.source) {
    requireNetwork(rt, "encoder", "generate with a photo's identity");
    const classMap = await checkFace(rt, input.source.photo, timings, lap);
    check();
    const enc = await encodePhotos(rt, photoTensor([input.source.photo]));
    timings.source_encoder = lap();
    mainFeatures = enc.features;
    mainStyle = enc.style;
    mainSeeds = [input.seed];
    check();
    // Where the photo's features lie: by the pack's route (photo-layout.ts).
    sourceProxy = await photoProxies(rt, { features: enc.features, classMaps: classMap ? [classMap] : undefined });
  } else {
    mainSeeds = variationSeeds(input.seed, mainCount);
    const g = await seedFeatures(rt, mainSeeds, truncation, timings, lap, check);
    mainFeatures = g.features;
    mainStyle = g.style;
    check();
    sourceProxy = await proxyOf(rt, mainFeatures);
  }
  timings.proxy = lap();
  const mainTarget = tileMask(target, mainCount);
  let features = await rearrange(rt, mainFeatures, sourceProxy, mainTarget);
  // A photo keeps its own features wherever the layout asks for what it already has (keep.ts).
  if (keepsUnchanged(m, input.source ? "photo" : "seeds")) features = keepAgreeing(features, mainFeatures, sourceProxy, mainTarget);
  timings.rearranger = lap();
  let style = mainStyle;
  check();

  // ---- restyle: the region of some classes from other seeds, rearranged into the same layout
  let restyleSeeds: number[] | null = null;
  if (input.restyle) {
    let classMap: Uint8Array;
    if (condition.kind === "mask") {
      classMap = condition.data;
    } else {
      // No class mask was drawn: the parser reads the classes off the main image's first render.
      requireNetwork(rt, "parser", `restyle a region of a ${condition.kind} condition`);
      const first = await render(rt, features, style);
      classMap = (await parseImages(rt, first))[0];
      timings.restyle_parse = lap();
    }
    // An eye names both eyes: which side's class a drawn eye gets is decided by its position.
    const pairs = sideRulesOf(m).pairs;
    const classes = new Set(withPartners(input.restyle.classes, pairs));
    const [, C, h, w] = features.dims as number[];
    const weights = regionWeights(classMap, R, classes, h, w);
    if (!weights.some((v) => v > 0)) {
      const partOf = (id: number) => pairs.find((p) => p.imageLeft === id || p.imageRight === id)?.label;
      const labels = m.classes.filter((c) => classes.has(c.id)).map((c) => partOf(c.id) ?? c.label);
      const names = [...new Set(labels)].join(", ") || [...classes].join(", ");
      throw new JobFailure("empty_region", `The layout has no ${names} to restyle.`);
    }
    restyleSeeds = variationSeeds(input.restyle.seed, n);
    const zr = latentsFor(rt, restyleSeeds);
    const wr = await mapLatents(rt, zr, truncation);
    const gr = await synthesizeFeatures(rt, wr);
    const pr = await proxyOf(rt, gr.features);
    const restyleTarget = tileMask(target, n);
    let fr = await rearrange(rt, gr.features, pr, restyleTarget);
    if (keepsUnchanged(m, "seeds")) fr = keepAgreeing(fr, gr.features, pr, restyleTarget);
    timings.restyle_features = lap();
    check();
    const mainTiled = tileFeatures(features, n);
    const blended = blendFeatures(mainTiled.data as Float32Array, fr.data as Float32Array, weights, n, C, h * w);
    features = new ort.Tensor("float32", blended, [n, C, h, w]);
    style = tileFeatures(style, n);
    timings.blend = lap();
  }

  const image = await render(rt, features, style);
  timings.g2 = lap();
  check();

  hooks.onStage?.("encoding", 0);
  const count = image.dims[0];
  const data = image.data as Float32Array;
  const images: GeneratedImage[] = Array.from({ length: count }, (_, i) => {
    const png = encodeRgbaPng(imageToRgba(data, count, R, R, i), R, R);
    const seed = mainSeeds[Math.min(i, mainSeeds.length - 1)];
    return restyleSeeds ? { seed, restyleSeed: restyleSeeds[i], width: R, height: R, png } : { seed, width: R, height: R, png };
  });
  timings.encode = lap();
  timings.total = Math.round(Object.values(timings).reduce((a, b) => a + b, 0) * 100) / 100;
  return { images, timings };
}
