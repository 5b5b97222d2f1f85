// What travels through the queue: requests as they arrive (JobRequest, InvertJobRequest), the
// validated Job that prepare.ts makes of them, and the JobResult the engine answers with. Its own
// module so that the engine, the preparer and the routes share these types without importing each other.
import type { Warning } from "../protocol/index.ts";
import type { VisibleStage } from "./pipeline/hooks.ts";
import type { InvertOutput } from "./pipeline/invert.ts";
import type { RgbImage } from "./pipeline/photo.ts";
import type { GenerateInput, GenerateOutput } from "./pipeline/request.ts";

/** What a validated request asks the pipeline for. Photos are decoded and sized already. */
export type JobTask = { kind: "generate"; input: GenerateInput } | { kind: "invert"; photo: RgbImage };

/** A validated request, ready for the queue. */
export interface Job {
  requestId: string;
  pack: string;
  task: JobTask;
  /** Time spent decoding and resizing photos while validating, reported with the stage timings. */
  decodeMs?: number;
  /** Said with the answer: the request runs, but the person should know (a layout with no face). */
  warnings?: Warning[];
  onStage?: (stage: VisibleStage) => void;
}

/** A condition as it arrives: drawn conditions as bytes, photos as PNG bytes. */
export type RawCondition =
  | { kind: "mask" | "sketch" | "scribble"; width: number; height: number; data: Uint8Array }
  | { kind: "edges"; photo: Uint8Array }
  | { kind: "exemplar"; photo: Uint8Array };

export interface JobRequest {
  requestId: string;
  /** Pack name; the default pack when absent. */
  pack?: string;
  condition: RawCondition;
  seed: number;
  variations: number;
  truncation?: number;
  /** PNG of the photo whose identity to use. */
  source?: Uint8Array;
  restyle?: { classes: number[]; seed: number };
  /** Fit the layout: candidates per kept image; absent: the server's default (DEFAULT_FIT). */
  fit?: number;
}

export interface InvertJobRequest {
  requestId: string;
  pack?: string;
  photo: Uint8Array;
}

export type JobResult = ({ kind: "generate" } & GenerateOutput & { pack: string }) | ({ kind: "invert" } & InvertOutput & { pack: string });
