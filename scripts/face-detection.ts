// Face-detection rate for `npm run eval`: the share of RGB images in which an off-the-shelf face
// detector finds a face at or above FACE_SCORE_THRESHOLD.
//
// Detector: BlazeFace (MediaPipe, "back" model, 256x256 input) as packaged by @vladmandic/human (MIT),
// whose npm package ships the weights (models/blazeface.json + .bin), run on TensorFlow.js's WASM
// backend (@tensorflow/tfjs-backend-wasm ships its .wasm files): no native build, no download.
// Weights are read from node_modules through the file:// load router in scripts/tfjs-wasm.ts.
// Only the detector runs: mesh, iris, description, emotion and every body/hand model are off.
//
// Each image is upsampled (bilinear, half-pixel centres) to the detector's 256 px input. Threshold
// 0.5 on BlazeFace's box score (Human rounds it to 2 decimals). Measured on celebamask-mini test/
// (100 photos): real faces score 0.78-0.90 at 256 px, 0.66-0.93 at 64 px, 0.65-0.92 at 32 px (rate
// 1.00 at all three); 50 uniform-noise squares 0.12-0.40, a flat grey square 0.10, the test faces
// blurred to 8 px and back 0.05-0.45 (all three 0.00). The detector is lenient about orientation:
// upside-down test faces still score 0.48-0.96, so the rate says "looks like a face", not "is upright".
import { performance } from "node:perf_hooks";
import * as tf from "@tensorflow/tfjs-core";
import { HUMAN_MODELS, openHuman } from "./tfjs-wasm.ts";

export const FACE_SCORE_THRESHOLD = 0.5;
export const DETECTOR_INPUT = 256;

export interface FaceDetector {
  /** Best face score per image (0 when none), for `n` HWC RGB images of `res` x `res` packed in `rgb`. */
  scores(rgb: Uint8Array, res: number): Promise<number[]>;
  /** e.g. "BlazeFace (@vladmandic/human 3.3.6, tfjs 4.22.0 wasm)" */
  readonly name: string;
}

export interface FaceRate {
  images: number;
  detected: number;
  rate: number;
  res: number;
  ms_per_image: number;
}

export async function openFaceDetector(): Promise<FaceDetector> {
  const off = { enabled: false };
  const human = await openHuman({
    enabled: true,
    detector: { modelPath: "blazeface.json", rotation: false, maxDetected: 1, minConfidence: 0.01, iouThreshold: 0.1, return: false, skipFrames: 0, skipTime: 0 },
    mesh: off, attention: off, iris: off, description: off, emotion: off, antispoof: off, liveness: off, gear: off,
  }, "face detector");
  if (!human.models.list().some((m) => m.name === "blazeface" && m.loaded)) {
    throw new Error(`face detector: BlazeFace weights did not load from ${HUMAN_MODELS}`);
  }
  return {
    name: `BlazeFace (@vladmandic/human ${human.version}, tfjs ${tf.version_core} wasm)`,
    async scores(rgb, res) {
      const px = res * res * 3;
      if (rgb.length % px !== 0) throw new Error(`face detector: ${rgb.length} bytes is not a whole number of ${res}x${res} RGB images`);
      const out: number[] = [];
      for (let i = 0; i < rgb.length / px; i++) {
        const input = tf.tidy(() => {
          const img = tf.tensor4d(Float32Array.from(rgb.subarray(i * px, (i + 1) * px)), [1, res, res, 3]);
          return res === DETECTOR_INPUT ? img : tf.image.resizeBilinear(img, [DETECTOR_INPUT, DETECTOR_INPUT], false, true);
        });
        try {
          const result = await human.detect(input);
          out.push(Math.max(0, ...result.face.map((f) => f.boxScore ?? f.score ?? 0)));
        } finally {
          input.dispose();
        }
      }
      return out;
    },
  };
}

/** Share of images whose best face score reaches the threshold. */
export async function faceRate(detector: FaceDetector, rgb: Uint8Array, res: number, threshold = FACE_SCORE_THRESHOLD): Promise<FaceRate> {
  const t0 = performance.now();
  const scores = await detector.scores(rgb, res);
  const ms = performance.now() - t0;
  const detected = scores.filter((s) => s >= threshold).length;
  return { images: scores.length, detected, rate: scores.length ? detected / scores.length : 0, res, ms_per_image: Number((ms / Math.max(1, scores.length)).toFixed(1)) };
}
