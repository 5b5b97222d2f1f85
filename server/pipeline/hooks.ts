// What every pipeline entry point shares: progress and cancellation hooks, stage timings.
import { AsyncLocalStorage } from "node:async_hooks";
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

/**
 * The running job's abort signal, for code far below the pipeline's entry points: a network run on
 * a remote engine (engine-client/runner.ts) stops waiting when its job is cancelled or times out,
 * so a slow engine cannot hold a worker slot past the job's deadline.
 */
const jobSignal = new AsyncLocalStorage<AbortSignal | undefined>();

export function withJobSignal<T>(signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
  return jobSignal.run(signal, run);
}

export function currentJobSignal(): AbortSignal | undefined {
  return jobSignal.getStore();
}

/** Aborts once every one of `signals` has (a batched run stops only when all its members are gone). */
export function allAborted(signals: readonly AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  const check = () => {
    if (signals.every((s) => s.aborted)) controller.abort();
  };
  for (const s of signals) s.addEventListener("abort", check, { once: true });
  check();
  return controller.signal;
}
