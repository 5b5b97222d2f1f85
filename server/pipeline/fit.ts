// Fit the layout: a request for n images with fit k makes k * n candidates (seeds s..s+kn-1), the
// pack's parser reads each candidate's pixels (the RGBA bytes the person would get, not the
// generator's floats, so a score can be checked against the PNG), and the n whose parsed layout is
// closest to the drawn class map are kept, best first. Only a drawn class map (a mask condition)
// can be compared; prepare.ts says so for any other condition.
import * as ort from "onnxruntime-node";
import type { PackRuntime } from "./runtime.ts";
import { classIdsWithSides, parseImages } from "./stages.ts";

/** Images per parser run: bounds the logits held at once (8 x 19 x 128 x 128 floats = 10 MB). */
const PARSE_CHUNK = 8;

/**
 * Layout mIoU of one image: the mean IoU over the classes present in either class map (classes in
 * neither are skipped), 0..1. The per-image form of what npm run eval reports over a whole set.
 */
export function layoutMiou(parsed: Uint8Array, drawn: Uint8Array): number {
  if (parsed.length !== drawn.length) throw new RangeError(`class maps differ in size (${parsed.length} and ${drawn.length} pixels)`);
  const inter = new Uint32Array(256);
  const inParsed = new Uint32Array(256);
  const inDrawn = new Uint32Array(256);
  for (let p = 0; p < parsed.length; p++) {
    inParsed[parsed[p]]++;
    inDrawn[drawn[p]]++;
    if (parsed[p] === drawn[p]) inter[parsed[p]]++;
  }
  let sum = 0, classes = 0;
  for (let c = 0; c < 256; c++) {
    const union = inParsed[c] + inDrawn[c] - inter[c];
    if (union === 0) continue;
    sum += inter[c] / union;
    classes++;
  }
  return classes ? sum / classes : 0;
}

/** Indices of the `n` highest scores, best first; a tie goes to the earlier candidate (the lower seed). */
export function bestIndices(scores: readonly number[], n: number): number[] {
  if (n > scores.length) throw new RangeError(`cannot keep ${n} of ${scores.length} candidates`);
  return scores
    .map((score, i) => ({ score, i }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, n)
    .map((c) => c.i);
}

/** RGBA bytes of equal-sized images -> the parser's input [n, 3, size, size] in [-1, 1]. */
export function rgbaToPlanar(images: readonly Uint8Array[], size: number): ort.Tensor {
  const plane = size * size;
  const data = new Float32Array(images.length * 3 * plane);
  images.forEach((rgba, i) => {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) data[(i * 3 + c) * plane + p] = rgba[p * 4 + c] / 127.5 - 1;
    }
  });
  return new ort.Tensor("float32", data, [images.length, 3, size, size]);
}

/**
 * The pack's parser reads each candidate (RGBA, R x R); its layout mIoU against `drawn`, with the
 * drawing's eyes, brows and ears on their sides as the mapper saw them (sides.ts): both eyes drawn
 * in one colour are scored as a left and a right eye, as the parser reads them.
 */
export async function scoreCandidates(rt: PackRuntime, candidates: readonly Uint8Array[], drawn: Uint8Array): Promise<number[]> {
  const R = rt.pack.manifest.resolution;
  const target = classIdsWithSides(rt, drawn, 1);
  const scores: number[] = [];
  for (let at = 0; at < candidates.length; at += PARSE_CHUNK) {
    const parsed = await parseImages(rt, rgbaToPlanar(candidates.slice(at, at + PARSE_CHUNK), R));
    for (const classMap of parsed) scores.push(layoutMiou(classMap, target));
  }
  return scores;
}
