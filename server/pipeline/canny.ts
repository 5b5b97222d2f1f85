// The edge map the edges mapper was trained on, computed from a user's photo: a bit-exact port of
// models/phototype_train/data/conditions.py `edges_from_image`, which is OpenCV 4.6's
//   grey = cvtColor(rgb, RGB2GRAY); grey = GaussianBlur(grey, (3, 3), 0.8)
//   lo, hi = int(0.66 * median), int(1.33 * median); Canny(grey, lo, max(hi, lo + 1))
// No HED weights exist offline, so this classical detector is what both sides use. Integer maths
// throughout, as OpenCV does it for 8-bit images, so the parity test (test/server/canny-parity.test.ts)
// can compare against cv2 pixel for pixel.

/** OpenCV's 8-bit RGB2GRAY: fixed point, 15 fractional bits (0.299, 0.587, 0.114). */
export function rgbToGrey(rgb: Uint8Array, width: number, height: number, channels = 3): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let p = 0, o = 0; p < out.length; p++, o += channels) {
    out[p] = (rgb[o] * 9798 + rgb[o + 1] * 19235 + rgb[o + 2] * 3735 + 16384) >> 15;
  }
  return out;
}

/** Index into [0, n) with OpenCV's default border, BORDER_REFLECT_101 (… 2 1 | 0 1 2 … n-2 n-1 | n-2 …). */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

/**
 * GaussianBlur(grey, (3, 3), 0.8) on 8-bit data as OpenCV computes it: the bit-exact kernel
 * [61, 134, 61] / 256 (the float kernel 0.239 / 0.522 / 0.239 rounded so it sums to 256),
 * horizontal then vertical pass in integers, rounded once at the end.
 */
export function gaussianBlur3(grey: Uint8Array, width: number, height: number): Uint8Array {
  const K0 = 61, K1 = 134;
  const rows = new Int32Array(width * height);
  for (let y = 0; y < height; y++) {
    const r = y * width;
    for (let x = 0; x < width; x++) {
      rows[r + x] = K0 * grey[r + reflect101(x - 1, width)] + K1 * grey[r + x] + K0 * grey[r + reflect101(x + 1, width)];
    }
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const up = reflect101(y - 1, height) * width, mid = y * width, down = reflect101(y + 1, height) * width;
    for (let x = 0; x < width; x++) {
      const v = (K0 * rows[up + x] + K1 * rows[mid + x] + K0 * rows[down + x] + 32768) >> 16;
      out[mid + x] = v > 255 ? 255 : v;
    }
  }
  return out;
}

/** numpy.median of 8-bit values: the middle value, or the mean of the two middle ones. */
export function median(values: Uint8Array): number {
  const hist = new Uint32Array(256);
  for (const v of values) hist[v]++;
  const n = values.length;
  const at = (k: number) => {
    // the k-th smallest value (0-based)
    let seen = 0;
    for (let v = 0; v < 256; v++) {
      seen += hist[v];
      if (seen > k) return v;
    }
    return 255;
  };
  return n % 2 === 1 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
}

/** Canny's thresholds from the blurred image's median, exactly as conditions.py derives them. */
export function thresholdsFromMedian(med: number, low = 0.66, high = 1.33): { low: number; high: number } {
  const lo = Math.trunc(Math.max(0, low * med));
  const hi = Math.trunc(Math.min(255, high * med));
  return { low: lo, high: Math.max(hi, lo + 1) };
}

// tan(22.5°) in OpenCV's fixed point (CANNY_SHIFT = 15).
const CANNY_SHIFT = 15;
const TG22 = Math.round(0.4142135623730950488016887242097 * (1 << CANNY_SHIFT));

/**
 * cv2.Canny(grey, low, high) with apertureSize 3 and L2gradient false: Sobel 3x3 (replicated
 * border), L1 magnitude |dx| + |dy|, non-maximum suppression along the gradient's direction
 * quantised to 0/45/90/135° (OpenCV's strict/non-strict comparisons kept), then hysteresis:
 * pixels over `high` seed edges, which grow through 8-connected pixels over `low`.
 * Returns 1 for an edge pixel, 0 elsewhere.
 */
export function canny(grey: Uint8Array, width: number, height: number, low: number, high: number): Uint8Array {
  const W = width, H = height;
  if (low > high) [low, high] = [high, low];
  low = Math.floor(low);
  high = Math.floor(high);
  const at = (x: number, y: number) => grey[Math.min(H - 1, Math.max(0, y)) * W + Math.min(W - 1, Math.max(0, x))];
  const dx = new Int32Array(W * H);
  const dy = new Int32Array(W * H);
  // Magnitudes with a one-pixel ring of zeros, so neighbours outside the image never win.
  const MW = W + 2;
  const mag = new Int32Array(MW * (H + 2));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const a = at(x - 1, y - 1), b = at(x, y - 1), c = at(x + 1, y - 1);
      const d = at(x - 1, y), f = at(x + 1, y);
      const g = at(x - 1, y + 1), h = at(x, y + 1), i = at(x + 1, y + 1);
      const gx = c + 2 * f + i - (a + 2 * d + g);
      const gy = g + 2 * h + i - (a + 2 * b + c);
      dx[y * W + x] = gx;
      dy[y * W + x] = gy;
      mag[(y + 1) * MW + x + 1] = Math.abs(gx) + Math.abs(gy);
    }
  }

  // 0: may join an edge (over low, a local maximum), 1: never, 2: edge.
  const map = new Uint8Array(W * H).fill(1);
  const stack: number[] = [];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const m = mag[(y + 1) * MW + x + 1];
      if (m <= low) continue;
      const xs = dx[y * W + x], ys = dy[y * W + x];
      const ax = Math.abs(xs);
      const ay = Math.abs(ys) * (1 << CANNY_SHIFT);
      const tg22x = ax * TG22;
      const M = (xx: number, yy: number) => mag[(yy + 1) * MW + xx + 1];
      let isMax: boolean;
      if (ay < tg22x) {
        isMax = m > M(x - 1, y) && m >= M(x + 1, y);
      } else {
        const tg67x = tg22x + ax * (1 << (CANNY_SHIFT + 1));
        if (ay > tg67x) {
          isMax = m > M(x, y - 1) && m >= M(x, y + 1);
        } else {
          const s = (xs ^ ys) < 0 ? -1 : 1;
          isMax = m > M(x - s, y - 1) && m > M(x + s, y + 1);
        }
      }
      if (!isMax) continue;
      if (m > high) {
        map[y * W + x] = 2;
        stack.push(y * W + x);
      } else {
        map[y * W + x] = 0;
      }
    }
  }
  while (stack.length > 0) {
    const p = stack.pop()!;
    const x = p % W, y = (p - x) / W;
    for (let yy = y - 1; yy <= y + 1; yy++) {
      if (yy < 0 || yy >= H) continue;
      for (let xx = x - 1; xx <= x + 1; xx++) {
        if (xx < 0 || xx >= W) continue;
        const q = yy * W + xx;
        if (map[q] === 0) {
          map[q] = 2;
          stack.push(q);
        }
      }
    }
  }
  const out = new Uint8Array(W * H);
  for (let p = 0; p < out.length; p++) out[p] = map[p] === 2 ? 1 : 0;
  return out;
}

/** edges_from_image: RGB bytes (3 a pixel) -> 1 = edge, 0 = none, same size. */
export function edgesFromRgb(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const grey = gaussianBlur3(rgbToGrey(rgb, width, height), width, height);
  const { low, high } = thresholdsFromMedian(median(grey));
  return canny(grey, width, height, low, high);
}
