// Face identity embeddings for the evaluation: how alike two faces look to a face recognition network.
//
// Network: "faceres" (HSE-FaceRes, a MobileNet trained for face identity, age and gender) as packaged
// by @vladmandic/human (MIT), whose npm package ships the weights (models/faceres.json + .bin), run
// directly with tfjs-converter on the WASM backend (scripts/tfjs-wasm.ts). Input 224x224 RGB in 0..255
// (Human multiplies its 0..1 face crop by 255; no normalisation inside the graph). The embedding is
// the 1024-d "global_pooling/Mean" output, Human's face descriptor; the age/gender heads are not run.
//
// No detector in the loop: the photos are aligned faces, so every image gets the same centre crop,
// CROP of its side, resized bilinearly to 224 px (half-pixel centres, so a photo at 64 px and at 256 px
// samples the same spots). Human itself feeds faceres BlazeFace's box enlarged 1.4x, which on aligned
// celebamask-mini photos is ~0.91 of the side, centred 0.59 down.
//
// Crop chosen on train/ only (100 photos: every 5th of the first 500 by name): cosine distance of a
// photo to its mirror image, to itself shifted 1/32 of the side and at 64 vs 256 px ("same") against
// distances between different photos ("different"), scored by d' = (mean diff - mean same) / pooled sd.
// At 64 px: crop 0.5 5.1, 0.6 7.3, 0.7 8.7, 0.8 9.1, 0.9 9.2, 1.0 9.1; at 256 px 0.8 is best (9.6).
// The same crops centred lower (0.55, nearer Human's framing) gain nothing. Tight crops are unstable
// across resolutions (64 vs 256 px: 0.18 at crop 0.5, 0.08 at 0.8); wide ones add hair and background.
// Train at 64 px, crop 0.8 (mean / median / 5th-95th percentile): same 0.061 / 0.056 / 0.030-0.106,
// different 0.614 / 0.617 / 0.474-0.741. Nearest pairs among all 1000 train photos at 64 px are the
// same celebrity in different photos, at 0.14-0.25: the embedding follows identity, not the picture.
// test/ (100 photos, crop 0.8):
//   64 px:  same 0.060 / 0.055 / 0.031-0.110 (mirror 0.054, shift 0.048, vs 256 px 0.078);
//           different 0.610 / 0.615 / 0.469-0.737
//   128 px: mirror 0.052, shift 0.049, vs 256 px 0.009; different 0.606 / 0.610 / 0.464-0.734
//   256 px: same 0.050 / 0.049 / 0.027-0.081; different 0.605 / 0.610 / 0.463-0.732
// ~100-130 ms an image (batches of 8, 2 busy cores).
import { readFile, writeFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { resolve } from "node:path";
import type { GraphModel } from "@tensorflow/tfjs-converter";
import * as tf from "@tensorflow/tfjs-core";
import { HUMAN_VERSION, loadHumanModel } from "./tfjs-wasm.ts";

export const EMBEDDER_INPUT = 224;
/** Side of the centre crop as a share of the image side. */
export const CROP = 0.8;
/** Vertical centre of the crop as a share of the image side. */
export const CENTRE_Y = 0.5;
const OUTPUT = "global_pooling/Mean";
const BATCH = 8;

export interface FaceEmbedder {
  /** One embedding per image, for `n` HWC RGB images of `res` x `res` packed in `rgb`. */
  embed(rgb: Uint8Array, res: number): Promise<Float32Array[]>;
  /** e.g. "faceres (@vladmandic/human 3.3.6, tfjs 4.22.0 wasm), crop 0.80" */
  readonly name: string;
}

/** 1 - cosine similarity; 1 when either vector is all zeros (nothing to compare). */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosineDistance: lengths ${a.length} and ${b.length} differ`);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na === 0 || nb === 0) return 1;
  return 1 - dot / Math.sqrt(na * nb);
}

/**
 * The crop box (a square of side `crop` x res centred at (res/2, centreY x res)) in
 * tf.image.cropAndResize's terms, corner pixel indices over side - 1, placed so output pixel i samples
 * where a plain half-pixel-centre bilinear resize of the crop would.
 */
/** A square HWC RGB image mirrored left-right: a second view of the same face. */
export function mirrorRgb(rgb: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) out.set(rgb.subarray((y * size + size - 1 - x) * 3, (y * size + size - x) * 3), (y * size + x) * 3);
  }
  return out;
}

export function cropBox(res: number, crop: number, centreY = 0.5, out = EMBEDDER_INPUT): [number, number, number, number] {
  const step = (crop * res) / out;
  // clamped: cropAndResize fills samples outside the image with 0 where a resize repeats the edge
  const at = (edge: number, i: number) => Math.min(1, Math.max(0, (edge * res + (i + 0.5) * step - 0.5) / (res - 1)));
  const x0 = 0.5 - crop / 2, y0 = centreY - crop / 2;
  return [at(y0, 0), at(x0, 0), at(y0, out - 1), at(x0, out - 1)];
}

export async function openFaceEmbedder(opts: { crop?: number; centreY?: number } = {}): Promise<FaceEmbedder> {
  const crop = opts.crop ?? CROP;
  const centreY = opts.centreY ?? CENTRE_Y;
  if (!(crop > 0 && crop <= 1)) throw new Error(`face embedder: crop ${crop} is not in (0, 1]`);
  const model: GraphModel = await loadHumanModel("faceres.json", "face embedder");
  const shape = model.inputs[0].shape;
  if (shape?.[1] !== EMBEDDER_INPUT || shape?.[2] !== EMBEDDER_INPUT) throw new Error(`face embedder: faceres input is ${shape}, expected ${EMBEDDER_INPUT} px`);
  return {
    name: `faceres (@vladmandic/human ${HUMAN_VERSION}, tfjs ${tf.version_core} wasm), crop ${crop.toFixed(2)}${centreY === 0.5 ? "" : ` at y ${centreY.toFixed(2)}`}`,
    async embed(rgb, res) {
      const px = res * res * 3;
      if (res < 2 || rgb.length % px !== 0) throw new Error(`face embedder: ${rgb.length} bytes is not a whole number of ${res}x${res} RGB images`);
      const n = rgb.length / px;
      const box = cropBox(res, crop, centreY);
      const out: Float32Array[] = [];
      for (let i = 0; i < n; i += BATCH) {
        const m = Math.min(BATCH, n - i);
        const emb = tf.tidy(() => {
          const img = tf.tensor4d(Float32Array.from(rgb.subarray(i * px, (i + m) * px)), [m, res, res, 3]);
          const input = tf.image.cropAndResize(img, Array.from({ length: m }, () => box), Array.from({ length: m }, (_, k) => k), [EMBEDDER_INPUT, EMBEDDER_INPUT], "bilinear");
          return model.execute(input, OUTPUT) as tf.Tensor2D;
        });
        const data = (await emb.data()) as Float32Array;
        emb.dispose();
        const d = data.length / m;
        for (let k = 0; k < m; k++) out.push(data.slice(k * d, (k + 1) * d));
      }
      return out;
    },
  };
}

let shared: Promise<FaceEmbedder> | undefined;

/** Embeddings of a raw uint8 HWC RGB file of N res x res images (e.g. the evaluation's outputs.bin). */
export async function embedFile(binPath: string, res: number, embedder?: FaceEmbedder): Promise<Float32Array[]> {
  const e = embedder ?? (await (shared ??= openFaceEmbedder()));
  return e.embed(new Uint8Array(await readFile(binPath)), res);
}

export interface DistanceSummary {
  n: number;
  mean: number;
  median: number;
  p5: number;
  p95: number;
}

/** Mean, median, 5th and 95th percentile (linear interpolation). */
export function summarize(values: readonly number[]): DistanceSummary {
  const s = [...values].sort((x, y) => x - y);
  const q = (p: number) => {
    if (!s.length) return NaN;
    const x = p * (s.length - 1);
    const lo = Math.floor(x);
    return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (x - lo);
  };
  const r = (v: number) => Number(v.toFixed(4));
  return { n: s.length, mean: r(s.length ? s.reduce((a, v) => a + v, 0) / s.length : NaN), median: r(q(0.5)), p5: r(q(0.05)), p95: r(q(0.95)) };
}

// CLI: npx tsx scripts/face-identity.ts FILE.bin RES [OUT.f32]: the N x 1024 float32 embeddings to
// OUT, and the distances between all pairs of images summarised to stdout.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const [file, res, outFile] = process.argv.slice(2);
  if (!file || !(Number(res) >= 2)) {
    console.error("usage: tsx scripts/face-identity.ts FILE.bin RES [OUT.f32]");
    process.exit(2);
  }
  const t0 = performance.now();
  const emb = await embedFile(file, Number(res));
  const ms = (performance.now() - t0) / Math.max(1, emb.length);
  if (outFile) await writeFile(outFile, Buffer.concat(emb.map((e) => Buffer.from(e.buffer, e.byteOffset, e.byteLength))));
  const d: number[] = [];
  for (let i = 0; i < emb.length; i++) for (let j = i + 1; j < emb.length; j++) d.push(cosineDistance(emb[i], emb[j]));
  console.log(JSON.stringify({ images: emb.length, dim: emb[0]?.length ?? 0, ms_per_image: Number(ms.toFixed(1)), pairwise_distance: summarize(d) }));
}
