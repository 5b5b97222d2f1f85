// The pipeline's stages, one network (or one pure step) each, composable on their own:
// later features reuse them (an exemplar layout from a photo's proxy mask, restyling one
// proxy region with a second seed's features). Tensor names and shapes come from pack.json;
// see contract.ts for which position means what. seedFeatures chains the three a new face starts
// with, timed, for both generate.ts and batch.ts.
import * as ort from "onnxruntime-node";
import type { NetworkFile } from "../pack/schema.ts";
import { dimsFor } from "./contract.ts";
import type { StageTimings } from "./hooks.ts";
import { latentBatch } from "./prng.ts";
import { argmaxClasses, argmaxToIds, bytesToInt64, type ProxyMask } from "./proxy-mask.ts";
import type { PackRuntime } from "./runtime.ts";
import { rgbToPlanar, type RgbImage } from "./photo.ts";
import { sideRulesOf } from "./side-pairs.ts";
import { placeSides } from "./sides.ts";

function network(rt: PackRuntime, key: string): NetworkFile {
  const net = rt.pack.manifest.networks[key];
  if (!net || !rt.runner.has(key)) throw new Error(`pack ${rt.pack.name} has no network ${key}`);
  return net;
}

/**
 * Runs one network with inputs in pack.json order; returns its outputs in pack.json order. Where
 * it runs (in-process sessions or a remote engine) is the pack runtime's runner.
 */
export async function runNetwork(rt: PackRuntime, key: string, inputs: ort.Tensor[]): Promise<ort.Tensor[]> {
  const net = network(rt, key);
  const feeds: Record<string, ort.Tensor> = {};
  net.inputs.forEach((spec, i) => (feeds[spec.name] = inputs[i]));
  const out = await rt.runner.run(key, feeds);
  return net.outputs.map((spec) => {
    const t = out[spec.name];
    if (!t) throw new Error(`network ${key} returned no ${spec.name}`);
    return t;
  });
}

function float32(t: ort.Tensor): Float32Array {
  return t.data as Float32Array;
}

export function proxyTensor(mask: ProxyMask): ort.Tensor {
  return new ort.Tensor("int64", mask.data, [mask.n, mask.h, mask.w]);
}

export function proxyFromTensor(t: ort.Tensor): ProxyMask {
  const [n, h, w] = t.dims as number[];
  return { n, h, w, data: t.data as BigInt64Array };
}

/**
 * n class-id maps of R x R, each with its eyes, brows and ears in the class of their side
 * (sides.ts). Every class-id condition passes here on its way to a mapper, whether it came from
 * the plugin, an HTTP mask PNG or the CLI.
 */
export function classIdsWithSides(rt: PackRuntime, data: Uint8Array, n: number): Uint8Array {
  const R = rt.pack.manifest.resolution;
  const rules = sideRulesOf(rt.pack.manifest);
  if (rules.pairs.length === 0) return data;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < n; i++) out.set(placeSides(data.subarray(i * R * R, (i + 1) * R * R), R, rules), i * R * R);
  return out;
}

/**
 * Condition network for `kind` (mapper.mask, mapper.sketch, …) on n conditions of R x R bytes ->
 * proxy-mask logits [n, K, h, w]. The bytes become the tensor pack.json asks for: int64 class ids
 * (mask, scribble; 255 = nothing drawn), with left and right placed by position, or float32 0/1
 * maps (sketch, edges: 1 = stroke or edge).
 */
export async function conditionLogits(rt: PackRuntime, kind: string, data: Uint8Array, n: number): Promise<ort.Tensor> {
  const cond = rt.pack.manifest.conditions.find((c) => c.kind === kind);
  if (!cond) throw new Error(`pack ${rt.pack.name} does not accept ${kind} conditions`);
  const spec = rt.pack.manifest.networks[cond.network].inputs[0];
  const dims = dimsFor(spec, n);
  const input =
    spec.type === "int64"
      ? new ort.Tensor("int64", bytesToInt64(classIdsWithSides(rt, data, n)), dims)
      : new ort.Tensor("float32", Float32Array.from(data, (v) => (v ? 1 : 0)), dims);
  const [logits] = await runNetwork(rt, cond.network, [input]);
  return logits;
}

/** Argmax of proxy logits over K, in JS: the target proxy mask. */
export function logitsToProxy(logits: ort.Tensor): ProxyMask {
  const [n, k, h, w] = logits.dims as number[];
  return argmaxClasses(float32(logits), n, k, h, w);
}

/** Standard-normal latents [seeds.length, zdim] for the pack's latent size. */
export function latentsFor(rt: PackRuntime, seeds: readonly number[]): ort.Tensor {
  const zdim = rt.pack.manifest.latent.size;
  return new ort.Tensor("float32", latentBatch(seeds, zdim), [seeds.length, zdim]);
}

/** mapping: z [n, zdim] and one truncation for all, or one per row (batched requests) -> w. */
export async function mapLatents(rt: PackRuntime, z: ort.Tensor, truncation: number | readonly number[]): Promise<ort.Tensor> {
  const n = z.dims[0];
  const rows = typeof truncation === "number" ? new Float32Array(n).fill(truncation) : Float32Array.from(truncation);
  if (rows.length !== n) throw new RangeError(`${rows.length} truncations for ${n} latents`);
  const trunc = new ort.Tensor("float32", rows, [n, 1]);
  const [w] = await runNetwork(rt, "mapping", [z, trunc]);
  return w;
}

/** g1: w -> the split feature map and the style g2 keeps. */
export async function synthesizeFeatures(rt: PackRuntime, w: ort.Tensor): Promise<{ features: ort.Tensor; style: ort.Tensor }> {
  const [features, style] = await runNetwork(rt, "g1", [w]);
  return { features, style };
}

/** Seeds -> latents -> mapping (one truncation, or one per seed) -> g1, each step timed. */
export async function seedFeatures(
  rt: PackRuntime,
  seeds: readonly number[],
  truncation: number | readonly number[],
  timings: StageTimings,
  lap: () => number,
  check: () => void,
): Promise<{ features: ort.Tensor; style: ort.Tensor }> {
  const z = latentsFor(rt, seeds);
  timings.latents = lap();
  const w = await mapLatents(rt, z, truncation);
  timings.mapping = lap();
  check();
  const g = await synthesizeFeatures(rt, w);
  timings.g1 = lap();
  return g;
}

/** proxy: features -> their proxy mask (the source layout of each sample). */
export async function proxyOf(rt: PackRuntime, features: ort.Tensor): Promise<ProxyMask> {
  const [proxy] = await runNetwork(rt, "proxy", [features]);
  return proxyFromTensor(proxy);
}

/** rearranger: features laid out like `source`, moved to the layout of `target`. */
export async function rearrange(rt: PackRuntime, features: ort.Tensor, source: ProxyMask, target: ProxyMask): Promise<ort.Tensor> {
  const [out] = await runNetwork(rt, "rearranger", [features, proxyTensor(source), proxyTensor(target)]);
  return out;
}

/** g2: features and style -> image [n, 3, R, R] in [-1, 1]. */
export async function render(rt: PackRuntime, features: ort.Tensor, style: ort.Tensor): Promise<ort.Tensor> {
  const [image] = await runNetwork(rt, "g2", [features, style]);
  return image;
}

/** Photos (pack-sized RGB squares) as the encoder's and parser's input: [n, 3, R, R] in [-1, 1]. */
export function photoTensor(photos: readonly RgbImage[]): ort.Tensor {
  const { width, height } = photos[0];
  const data = new Float32Array(photos.length * 3 * width * height);
  photos.forEach((p, i) => rgbToPlanar(p, data, i * 3 * width * height));
  return new ort.Tensor("float32", data, [photos.length, 3, height, width]);
}

/** encoder: photos -> the features and style that g2 would turn back into them (inversion). */
export async function encodePhotos(rt: PackRuntime, photos: ort.Tensor): Promise<{ features: ort.Tensor; style: ort.Tensor }> {
  const [features, style] = await runNetwork(rt, "encoder", [photos]);
  return { features, style };
}

/** parser: images [n, 3, R, R] in [-1, 1] -> one class-id map (R x R bytes) per image. */
export async function parseImages(rt: PackRuntime, images: ort.Tensor): Promise<Uint8Array[]> {
  const [logits] = await runNetwork(rt, "parser", [images]);
  const [n, k, h, w] = logits.dims as number[];
  return Array.from({ length: n }, (_, i) => argmaxToIds(logits.data as Float32Array, k, h * w, i));
}
