// Decodes uploaded images off the event loop. The header's pixel budget is checked here first, so
// a bomb is refused without waking a thread; a PNG within budget goes to a worker thread
// (decode-worker.ts, through piscina) with a time bound: a worker past it is terminated and
// replaced, and the request is answered `timeout`.
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import type { DecodeAnswer, DecodeTask } from "./decode-worker.ts";
import type { PackClass } from "./pack/schema.ts";
import { isImageError } from "./pipeline/image-errors.ts";
import { checkImageBudget } from "./pipeline/image-header.ts";
import { BadImageError, type MaskFromImage } from "./pipeline/mask.ts";
import { workerFile } from "./worker-file.ts";
import type { RgbImage } from "./pipeline/photo.ts";
import type { ErrorCode } from "../protocol/index.ts";

/** The most one decode may take: the largest image in budget takes ~2 s on a busy 2-core machine. */
export const DECODE_TIMEOUT_MS = 10_000;

export interface DecoderOptions {
  timeoutMs?: number;
  /** Images waiting for a worker; more are answered `queue_full`. */
  maxQueue?: number;
  threads?: number;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

export interface ImageDecoder {
  /** A photo's centre square at `resolution` (RGB). */
  photo(bytes: Uint8Array, resolution: number, what: string): Promise<Decoded<RgbImage>>;
  /** A class-id mask at `resolution` from a greyscale or palette-coloured PNG. */
  mask(bytes: Uint8Array, classes: readonly PackClass[], resolution: number): Promise<Decoded<MaskFromImage>>;
  close(): Promise<void>;
}

/** The budget check, on this thread: refused at once, or null to go on to the worker. */
function refusedByHeader(bytes: Uint8Array, what: string): Extract<Decoded<never>, { ok: false }> | null {
  try {
    const header = checkImageBudget(bytes, what);
    if (header.format === "jpeg") throw new BadImageError(`${what} is a JPEG; send it as PNG (the plugin exports PNG).`);
    return null;
  } catch (e) {
    if (isImageError(e)) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
}

export function createImageDecoder(options: DecoderOptions = {}): ImageDecoder {
  const timeoutMs = options.timeoutMs ?? DECODE_TIMEOUT_MS;
  const threads = options.threads ?? Math.max(1, Math.min(2, Math.floor(availableParallelism() / 4)));
  const pool = new Piscina<DecodeTask, DecodeAnswer>({
    ...workerFile("decode-worker", import.meta.url),
    minThreads: threads,
    maxThreads: threads,
    maxQueue: options.maxQueue ?? 32,
    // A decoded image lives in typed arrays outside this heap; the cap catches runaway JS objects.
    resourceLimits: { maxOldGenerationSizeMb: 512 },
  });

  type Refusal = Extract<Decoded<never>, { ok: false }>;
  const run = async (task: DecodeTask, what: string): Promise<DecodeAnswer | Refusal> => {
    const refused = refusedByHeader(task.bytes, what);
    if (refused) return refused;
    try {
      return await pool.run(task, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      const err = e as Error;
      if (err.name === "AbortError") {
        return { ok: false, code: "timeout", message: `${what} took longer than ${timeoutMs / 1000} s to read, so the server stopped; send a smaller PNG.` };
      }
      if (/queue is at limit/i.test(err.message)) return { ok: false, code: "queue_full", message: "The server is reading too many images at once; try again in a moment." };
      return { ok: false, code: "internal", message: `The server failed to read ${what.toLowerCase()} (${err.message}).` };
    }
  };

  return {
    async photo(bytes, resolution, what) {
      const a = await run({ kind: "photo", bytes, resolution, what }, what);
      return a.ok ? (a.kind === "photo" ? { ok: true, value: a.photo } : unexpected()) : a;
    },
    async mask(bytes, classes, resolution) {
      const a = await run({ kind: "mask", bytes, classes: [...classes], resolution }, "The mask image");
      return a.ok ? (a.kind === "mask" ? { ok: true, value: a.mask } : unexpected()) : a;
    },
    close: () => pool.destroy(),
  };
}

function unexpected(): never {
  throw new Error("the decode worker answered a different kind of task");
}
