// The whole pipeline for one request: condition mask + seed -> N PNGs, the N variations batched
// through each network in one run. Deterministic: the same input gives the same PNG bytes.
import { performance } from "node:perf_hooks";
import { encodeRgbaPng, imageToRgba } from "./image.ts";
import { tileMask } from "./proxy-mask.ts";
import { variationSeeds } from "./prng.ts";
import type { PackRuntime } from "./runtime.ts";
import { conditionLogits, latentsFor, logitsToProxy, mapLatents, proxyOf, rearrange, render, synthesizeFeatures } from "./stages.ts";

export interface GenerateInput {
  /** Condition kind the mask is for; "mask" (class ids) is the one every face pack has. */
  kind?: string;
  /** Class ids, resolution x resolution, row-major; validated by the caller. */
  mask: Uint8Array;
  seed: number;
  variations: number;
  /** Defaults to the pack's truncation. */
  truncation?: number;
}

export interface GeneratedImage {
  seed: number;
  width: number;
  height: number;
  png: Uint8Array;
}

/** Milliseconds per stage, for the whole batch. */
export type StageTimings = Record<string, number>;

export interface GenerateOutput {
  images: GeneratedImage[];
  timings: StageTimings;
}

/** Coarse stages a person sees (the protocol's progress stages). */
export type VisibleStage = "mapping" | "generating" | "encoding";

export interface GenerateHooks {
  signal?: AbortSignal;
  onStage?: (stage: VisibleStage, done: number) => void;
}

export class GenerationAborted extends Error {
  constructor() {
    super("generation aborted");
  }
}

function stopwatch() {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const ms = now - last;
    last = now;
    return Math.round(ms * 100) / 100;
  };
}

export async function generate(rt: PackRuntime, input: GenerateInput, hooks: GenerateHooks = {}): Promise<GenerateOutput> {
  const m = rt.pack.manifest;
  const n = input.variations;
  const truncation = input.truncation ?? m.truncation;
  const timings: StageTimings = {};
  const lap = stopwatch();
  // Between stages: a cancelled or timed-out request stops using the CPU as soon as it can.
  const check = () => {
    if (hooks.signal?.aborted) throw new GenerationAborted();
  };

  hooks.onStage?.("mapping", 0);
  // One mask for all variations: run the condition network once and repeat its proxy mask.
  const logits = await conditionLogits(rt, input.kind ?? "mask", input.mask, 1);
  timings.condition = lap();
  const target = tileMask(logitsToProxy(logits), n);
  timings.argmax = lap();
  const seeds = variationSeeds(input.seed, n);
  const z = latentsFor(rt, seeds);
  timings.latents = lap();
  const w = await mapLatents(rt, z, truncation);
  timings.mapping = lap();
  check();

  hooks.onStage?.("generating", 0);
  const { features, style } = await synthesizeFeatures(rt, w);
  timings.g1 = lap();
  check();
  const source = await proxyOf(rt, features);
  timings.proxy = lap();
  const arranged = await rearrange(rt, features, source, target);
  timings.rearranger = lap();
  check();
  const image = await render(rt, arranged, style);
  timings.g2 = lap();
  check();

  hooks.onStage?.("encoding", 0);
  const R = m.resolution;
  const data = image.data as Float32Array;
  const images: GeneratedImage[] = seeds.map((seed, i) => {
    const png = encodeRgbaPng(imageToRgba(data, n, R, R, i), R, R);
    return { seed, width: R, height: R, png };
  });
  timings.encode = lap();
  timings.total = Object.values(timings).reduce((a, b) => a + b, 0);
  timings.total = Math.round(timings.total * 100) / 100;
  return { images, timings };
}
