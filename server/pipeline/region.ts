// Per-region restyle on class maps: which feature cells belong to some classes, blending two
// feature maps by that weight, and the parser's argmax as class ids.
import * as ort from "onnxruntime-node";

/**
 * For a class map of size R x R and a feature grid h x w (R a multiple of it or not), the share of
 * each feature cell's area covered by `classes`, 0..1. Soft at the region's border, so the blend
 * does not draw a hard seam through a feature cell that is half hair, half skin.
 */
export function regionWeights(classMap: Uint8Array, size: number, classes: ReadonlySet<number>, h: number, w: number): Float32Array {
  if (classMap.length !== size * size) throw new RangeError(`class map holds ${classMap.length} values, not ${size}x${size}`);
  const out = new Float32Array(h * w);
  const counts = new Float32Array(h * w);
  for (let y = 0; y < size; y++) {
    const fy = Math.min(h - 1, Math.floor((y * h) / size));
    for (let x = 0; x < size; x++) {
      const fx = Math.min(w - 1, Math.floor((x * w) / size));
      counts[fy * w + fx]++;
      if (classes.has(classMap[y * size + x])) out[fy * w + fx]++;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = counts[i] ? out[i] / counts[i] : 0;
  return out;
}

/**
 * out = weight * other + (1 - weight) * main, per feature cell, for every channel of every batch
 * item. `main` and `other` are [n, C, h, w]; `weights` is [h*w] (one region for the batch) or
 * [n*h*w] (one per item).
 */
export function blendFeatures(main: Float32Array, other: Float32Array, weights: Float32Array, n: number, channels: number, plane: number): Float32Array {
  if (main.length !== n * channels * plane || other.length !== main.length) throw new RangeError("feature maps differ in size");
  const perItem = weights.length === n * plane;
  if (!perItem && weights.length !== plane) throw new RangeError(`weights hold ${weights.length} values, not ${plane} or ${n * plane}`);
  const out = new Float32Array(main.length);
  for (let b = 0; b < n; b++) {
    const wOff = perItem ? b * plane : 0;
    for (let c = 0; c < channels; c++) {
      const off = (b * channels + c) * plane;
      for (let p = 0; p < plane; p++) {
        const t = weights[wOff + p];
        out[off + p] = t * other[off + p] + (1 - t) * main[off + p];
      }
    }
  }
  return out;
}

/** Batch item 0 of a float tensor repeated `times` times along the batch. */
export function tileFeatures(t: ort.Tensor, times: number): ort.Tensor {
  const [n, ...rest] = t.dims as number[];
  const size = (t.data as Float32Array).length / n;
  const src = (t.data as Float32Array).subarray(0, size);
  const out = new Float32Array(size * times);
  for (let i = 0; i < times; i++) out.set(src, i * size);
  return new ort.Tensor("float32", out, [times, ...rest]);
}
