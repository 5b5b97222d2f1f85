// A request that fails for a reason the person can act on (no face in the photo, nothing of the
// chosen part in the layout). Thrown by the pipeline, passed through the queue with its code.
export type JobFailureCode = "no_face" | "empty_region" | "unsupported_feature";

export class JobFailure extends Error {
  constructor(
    readonly code: JobFailureCode,
    message: string,
  ) {
    super(message);
  }
}
