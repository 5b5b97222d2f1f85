// A request that fails for a reason the person can act on (no face in the photo, nothing of the
// chosen part in the layout, the engine that runs the networks not answering). Thrown by the
// pipeline, passed through the queue with its code.
export type JobFailureCode = "no_face" | "empty_region" | "unsupported_feature" | EngineFailureCode;

/** Failures of a remote engine (serve --engine): the request may work again later, unchanged. */
export type EngineFailureCode = "engine_unavailable" | "engine_timeout";

export class JobFailure extends Error {
  constructor(
    readonly code: JobFailureCode,
    message: string,
  ) {
    super(message);
  }
}

export function isEngineFailure(e: unknown): e is JobFailure & { code: EngineFailureCode } {
  return e instanceof JobFailure && (e.code === "engine_unavailable" || e.code === "engine_timeout");
}
