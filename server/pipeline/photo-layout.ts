// A photo's layout as a proxy mask, by the route its pack declares (pack.json `photoLayout`):
//   "encoder" (absent = this): encoder -> F -> proxy, the paper's route;
//   "parser":  the pack's parser -> class map -> mapper.mask -> argmax, the route a drawn mask takes.
// The photo source of an edit uses it as the source proxy (where the photo's features lie), the
// exemplar as the target. Measured by npm run bench:photo (docs/ARCHITECTURE.md, Photo layout route).
import type * as ort from "onnxruntime-node";
import type { PhotoLayout } from "../pack/schema.ts";
import type { ProxyMask } from "./proxy-mask.ts";
import type { PackRuntime } from "./runtime.ts";
import { conditionLogits, logitsToProxy, proxyOf } from "./stages.ts";

export function photoLayoutRoute(rt: PackRuntime): PhotoLayout {
  return rt.pack.manifest.photoLayout ?? "encoder";
}

/** Whether the pack has the network its route reads a photo's layout with. */
export function canReadPhotoLayout(rt: PackRuntime): boolean {
  return rt.runner.has(photoLayoutRoute(rt) === "parser" ? "parser" : "encoder");
}

/**
 * Proxy masks of n photos by `route` (the pack's unless given): from their encoder features
 * [n, C, h, w], or from their parser class maps (R x R bytes each).
 */
export async function photoProxies(
  rt: PackRuntime,
  photos: { features?: ort.Tensor; classMaps?: readonly Uint8Array[] },
  route: PhotoLayout = photoLayoutRoute(rt),
): Promise<ProxyMask> {
  if (route === "encoder") {
    if (!photos.features) throw new Error("the encoder route needs the photos' features");
    return proxyOf(rt, photos.features);
  }
  const maps = photos.classMaps;
  if (!maps?.length) throw new Error("the parser route needs the photos' class maps");
  const plane = maps[0].length;
  const flat = new Uint8Array(maps.length * plane);
  maps.forEach((map, i) => flat.set(map, i * plane));
  return logitsToProxy(await conditionLogits(rt, "mask", flat, maps.length));
}
