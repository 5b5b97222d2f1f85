// What every pipeline entry point shares: progress and cancellation hooks, stage timings.
import { performance } from "node:perf_hooks";

/** Milliseconds per stage, for the whole batch. */
export type StageTimings = Record<string, number>;

/** Coarse stages a person sees (the protocol's progress stages). */
export type VisibleStage = "reading" | "mapping" | "generating" | "encoding" | "tracing";

export interface GenerateHooks {
  signal?: AbortSignal;
  onStage?: (stage: VisibleStage, done: number) => void;
}

export class GenerationAborted extends Error {
  constructor() {
    super("generation aborted");
  }
}

export function stopwatch() {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const ms = now - last;
    last = now;
    return Math.round(ms * 100) / 100;
  };
}
