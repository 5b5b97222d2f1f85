// Proxy masks: one proxy-cluster id a feature pixel, batch-major [n, h, w], stored as int64
// because that is what the proxy and rearranger networks read and write.

export interface ProxyMask {
  n: number;
  h: number;
  w: number;
  data: BigInt64Array;
}

const BIG = Array.from({ length: 256 }, (_, i) => BigInt(i));

/**
 * Argmax over the class axis of one item's [k, h*w] logits: class ids (channel index = class id).
 * Ties go to the lowest index and NaN never wins, as torch.argmax does for finite inputs.
 */
export function argmaxToIds(logits: Float32Array, k: number, plane: number, index = 0): Uint8Array {
  if (k > 256) throw new RangeError(`at most 256 classes, got ${k}`);
  const base = index * k * plane;
  if (logits.length < base + k * plane) throw new RangeError("logits too short for this batch item");
  const out = new Uint8Array(plane);
  const best = new Float32Array(plane).fill(-Infinity);
  for (let c = 0; c < k; c++) {
    const off = base + c * plane;
    for (let p = 0; p < plane; p++) {
      const v = logits[off + p];
      if (v > best[p]) {
        best[p] = v;
        out[p] = c;
      }
    }
  }
  return out;
}

/** Argmax over the class axis of [n, k, h, w] logits, as the int64 mask the networks read. */
export function argmaxClasses(logits: Float32Array, n: number, k: number, h: number, w: number): ProxyMask {
  if (logits.length !== n * k * h * w) throw new RangeError(`logits hold ${logits.length} values, not ${n}x${k}x${h}x${w}`);
  const plane = h * w;
  const data = new BigInt64Array(n * plane);
  for (let b = 0; b < n; b++) {
    const ids = argmaxToIds(logits, k, plane, b);
    for (let p = 0; p < plane; p++) data[b * plane + p] = BIG[ids[p]];
  }
  return { n, h, w, data };
}

/** The same mask repeated `times` along the batch (one condition, many seeds). */
export function tileMask(mask: ProxyMask, times: number): ProxyMask {
  const plane = mask.h * mask.w;
  const data = new BigInt64Array(mask.n * times * plane);
  for (let t = 0; t < times; t++) data.set(mask.data, t * mask.n * plane);
  return { n: mask.n * times, h: mask.h, w: mask.w, data };
}

/** One batch item of a mask, as its own mask of n = 1. */
export function maskAt(mask: ProxyMask, index: number): ProxyMask {
  const plane = mask.h * mask.w;
  return { n: 1, h: mask.h, w: mask.w, data: mask.data.slice(index * plane, (index + 1) * plane) };
}

/** Class-id bytes (one image or a batch) widened to int64 for a network input. */
export function bytesToInt64(bytes: Uint8Array): BigInt64Array {
  const out = new BigInt64Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = BIG[bytes[i]];
  return out;
}

/** Item i of a mask repeated counts[i] times, in order (several conditions, each with its seeds). */
export function repeatEach(mask: ProxyMask, counts: readonly number[]): ProxyMask {
  if (counts.length !== mask.n) throw new RangeError(`${counts.length} counts for a mask of ${mask.n} items`);
  const plane = mask.h * mask.w;
  const data = new BigInt64Array(counts.reduce((a, b) => a + b, 0) * plane);
  let at = 0;
  counts.forEach((times, i) => {
    const item = mask.data.subarray(i * plane, (i + 1) * plane);
    for (let t = 0; t < times; t++, at++) data.set(item, at * plane);
  });
  return { n: data.length / plane, h: mask.h, w: mask.w, data };
}
