// Where an edit's target layout asks for what the photo already has, the photo's own features are
// kept: only what was redrawn goes through the rearranger, so an untouched edit is the photo's plain
// reconstruction and a small change stays a small change. Measured by npm run bench:photo
// (docs/ARCHITECTURE.md, Photo layout route). A pack may ask the same for new faces from seeds
// (pack.json keepUnchanged "all").
import * as ort from "onnxruntime-node";
import type { PackManifest } from "../pack/schema.ts";
import type { ProxyMask } from "./proxy-mask.ts";
import { blendFeatures, tileFeatures } from "./region.ts";

/**
 * Per batch item and feature cell, the share of its (2r+1)^2 neighbourhood (cut at the border) where
 * the source's and the target's proxy ids agree: 1 inside an unchanged region, falling to 0 across a
 * redrawn one, so the blend has no hard seam. `source` holds 1 item (shared) or as many as `target`.
 */
export function agreementWeights(source: ProxyMask, target: ProxyMask, radius = 1): Float32Array {
  const { h, w } = target;
  if (source.h !== h || source.w !== w) throw new RangeError(`proxy masks differ in size: ${source.h}x${source.w} and ${h}x${w}`);
  if (source.n !== 1 && source.n !== target.n) throw new RangeError(`source holds ${source.n} masks, not 1 or ${target.n}`);
  const plane = h * w;
  const out = new Float32Array(target.n * plane);
  const same = new Uint8Array(plane);
  for (let b = 0; b < target.n; b++) {
    const s = source.n === 1 ? 0 : b * plane;
    for (let p = 0; p < plane; p++) same[p] = source.data[s + p] === target.data[b * plane + p] ? 1 : 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let agree = 0, cells = 0;
        for (let yy = Math.max(0, y - radius); yy <= Math.min(h - 1, y + radius); yy++) {
          for (let xx = Math.max(0, x - radius); xx <= Math.min(w - 1, x + radius); xx++) {
            agree += same[yy * w + xx];
            cells++;
          }
        }
        out[b * plane + y * w + x] = agree / cells;
      }
    }
  }
  return out;
}

/**
 * The rearranged features [n, C, h, w] with the source's own features blended back in by
 * agreementWeights(sourceProxy, targetProxy): a cell whose layout did not change keeps the source.
 * `source` holds n items, or 1 shared by all.
 */
export function keepAgreeing(rearranged: ort.Tensor, source: ort.Tensor, sourceProxy: ProxyMask, targetProxy: ProxyMask): ort.Tensor {
  const [n, C, h, w] = rearranged.dims as number[];
  const plane = h * w;
  if (source.dims[0] !== n && source.dims[0] !== 1) throw new RangeError(`source holds ${source.dims[0]} items, not 1 or ${n}`);
  const src = (source.dims[0] === n ? source : tileFeatures(source, n)).data as Float32Array;
  const weights = agreementWeights(sourceProxy, targetProxy); // [plane] for one target, else [n * plane]
  return new ort.Tensor("float32", blendFeatures(rearranged.data as Float32Array, src, weights, n, C, plane), [n, C, h, w]);
}

/** Whether features from `source` keep their own cells where the layout agrees, by the pack's keepUnchanged. */
export function keepsUnchanged(m: Pick<PackManifest, "keepUnchanged">, source: "photo" | "seeds"): boolean {
  return source === "photo" || m.keepUnchanged === "all";
}
