// Runs in a worker thread (decoder.ts): uploaded PNG bytes -> a pack-sized photo or mask, so a
// large or slow image never blocks the server's event loop. Answers are plain values: error
// classes do not survive the trip between threads, so the protocol code and sentence travel instead.
import type { PackClass } from "./pack/schema.ts";
import { isImageError } from "./pipeline/image-errors.ts";
import { maskFromPng, type MaskFromImage } from "./pipeline/mask.ts";
import { readPhoto, type RgbImage } from "./pipeline/photo.ts";

export type DecodeTask =
  | { kind: "photo"; bytes: Uint8Array; resolution: number; what: string }
  | { kind: "mask"; bytes: Uint8Array; classes: PackClass[]; resolution: number };

export type DecodeAnswer =
  | { ok: true; kind: "photo"; photo: RgbImage }
  | { ok: true; kind: "mask"; mask: MaskFromImage }
  | { ok: false; code: "bad_image" | "image_too_large" | "image_too_small"; message: string };

export default function decode(task: DecodeTask): DecodeAnswer {
  try {
    if (task.kind === "photo") return { ok: true, kind: "photo", photo: readPhoto(task.bytes, task.resolution, task.what) };
    return { ok: true, kind: "mask", mask: maskFromPng(task.bytes, task.classes, task.resolution) };
  } catch (e) {
    if (isImageError(e)) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
}
