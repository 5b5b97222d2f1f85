// Reconnect delays: exponential with a cap, and "equal jitter" (half fixed, half random) so a
// restarted server is not hit by every open plugin at the same instant, while the wait still grows.

export interface BackoffOptions {
  baseMs: number;
  factor: number;
  capMs: number;
  /** Share of each delay that is random, 0..1. */
  jitter: number;
}

export const RECONNECT_BACKOFF: BackoffOptions = { baseMs: 500, factor: 2, capMs: 15_000, jitter: 0.5 };

/** Delay before reconnect attempt number `attempt` (0 = first retry). `random` returns [0, 1). */
export function reconnectDelay(attempt: number, random: () => number = Math.random, opts: BackoffOptions = RECONNECT_BACKOFF): number {
  const exp = Math.min(opts.capMs, opts.baseMs * Math.pow(opts.factor, Math.max(0, attempt)));
  const fixed = exp * (1 - opts.jitter);
  return Math.round(fixed + random() * exp * opts.jitter);
}
