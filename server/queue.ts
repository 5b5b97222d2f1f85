// The request queue: pure scheduling logic, no ONNX and no sockets, so its rules are unit-testable.
//
// Rules:
// - At most `maxWaiting` requests wait (queue_full beyond), at most `maxPerClient` per client
//   waiting or running (rate_limited beyond), at most `concurrency` workers run.
// - A client's new preview replaces its older preview still waiting (that one settles `replaced`).
// - cancel: a waiting request is removed, a running one is aborted and its result discarded;
//   either settles `cancelled` at once.
// - Each request has a deadline counted from submission (`timeout`); a running one is aborted.
// - Fair order: each request gets a virtual start tag max(now, client's last tag) + 1, and the
//   smallest tag (then the earliest submission) runs next. A client with ten requests waiting
//   gets one turn per round, so a flood cannot push others back more than one request each.
// - An aborted worker keeps its slot until its promise settles: the CPU is busy until then.
// - Batching (optional): when a slot frees up, the next request in fair order runs together with
//   the waiting requests that share its batch key, taken in fair order, up to `maxBatch` images.
//   The head of the line always runs, so nobody starves; the others only move up within one run.
//   Each request keeps its own listener, deadline and cancellation; one settling early (cancelled,
//   timed out) does not stop the run for the rest, and the run's slot is freed when it returns.

import { JobFailure, type JobFailureCode } from "./failure.ts";

export type Mode = "preview" | "final";
export type RefusalCode = "queue_full" | "rate_limited" | "duplicate_id";
export type FailureCode = "replaced" | "cancelled" | "timeout" | "internal" | JobFailureCode;

export interface QueueOptions {
  concurrency: number;
  maxWaiting: number;
  maxPerClient: number;
  timeoutMs: number;
  /** Images one batched run may hold (sum of `Batching.size`); 1 turns batching off. */
  maxBatch: number;
}

export const DEFAULT_QUEUE_OPTIONS: QueueOptions = { concurrency: 1, maxWaiting: 32, maxPerClient: 4, timeoutMs: 60_000, maxBatch: 8 };

export interface JobSpec<P> {
  clientId: string;
  requestId: string;
  mode: Mode;
  payload: P;
}

export type Outcome<R> = { ok: true; result: R } | { ok: false; code: FailureCode; message: string };

export interface JobListener<R> {
  /** Requests that will start before this one; called on submit and whenever it changes. */
  position?(position: number): void;
  started?(): void;
  /** Called exactly once. */
  settled(outcome: Outcome<R>): void;
}

export type Worker<P, R> = (payload: P, signal: AbortSignal) => Promise<R>;

/** One member's result in a batched run: a value, or what the single worker would have thrown. */
export type MemberResult<R> = { ok: true; result: R } | { ok: false; error: unknown };

export interface Batching<P, R> {
  /** Requests with the same key may share a run; null runs alone. */
  key(payload: P): string | null;
  /** The images a request adds to a run, counted against `maxBatch`. */
  size(payload: P): number;
  /** Runs the payloads together; answers one result per payload, in order. */
  run(payloads: P[], signals: AbortSignal[]): Promise<MemberResult<R>[]>;
}

export type SubmitResult = { ok: true; position: number } | { ok: false; code: RefusalCode; message: string };

export interface QueueStats {
  waiting: number;
  running: number;
  /** Worker slots in use, including aborted runs that have not returned yet. */
  busy: number;
  clients: number;
}

interface Entry<P, R> {
  spec: JobSpec<P>;
  listener: JobListener<R>;
  seq: number;
  tag: number;
  state: "waiting" | "running" | "settled";
  position: number;
  timer?: ReturnType<typeof setTimeout>;
  controller?: AbortController;
}

const key = (clientId: string, requestId: string) => `${clientId}\u0000${requestId}`;

export class RequestQueue<P, R> {
  readonly options: QueueOptions;
  private readonly worker: Worker<P, R>;
  private readonly batching?: Batching<P, R>;
  private readonly active = new Map<string, Entry<P, R>>(); // waiting or running, not settled
  private readonly perClient = new Map<string, number>();
  private readonly lastTag = new Map<string, number>();
  private waiting: Entry<P, R>[] = []; // kept sorted by (tag, seq)
  private busy = 0;
  private running = 0;
  private seq = 0;
  private virtualTime = 0;
  private closed = false;

  constructor(worker: Worker<P, R>, options: Partial<QueueOptions> = {}, batching?: Batching<P, R>) {
    this.worker = worker;
    this.batching = batching;
    this.options = { ...DEFAULT_QUEUE_OPTIONS, ...options };
    if (this.options.concurrency < 1) throw new RangeError("concurrency must be at least 1");
    if (!(this.options.maxBatch >= 1)) throw new RangeError("maxBatch must be at least 1");
  }

  submit(spec: JobSpec<P>, listener: JobListener<R>): SubmitResult {
    const { clientId, requestId } = spec;
    if (this.closed) return { ok: false, code: "queue_full", message: "The server is shutting down." };
    if (this.active.has(key(clientId, requestId))) {
      return { ok: false, code: "duplicate_id", message: `A request with id ${requestId} is already waiting or running.` };
    }
    if (spec.mode === "preview") {
      const older = this.waiting.find((e) => e.spec.clientId === clientId && e.spec.mode === "preview");
      if (older) this.finish(older, { ok: false, code: "replaced", message: "A newer preview replaced this one before it started." });
    }
    const { maxPerClient, maxWaiting, timeoutMs } = this.options;
    if ((this.perClient.get(clientId) ?? 0) >= maxPerClient) {
      this.afterChange();
      return {
        ok: false,
        code: "rate_limited",
        message: `You already have ${maxPerClient} requests waiting or running; wait for one to finish or cancel one.`,
      };
    }
    if (this.waiting.length >= maxWaiting) {
      this.afterChange();
      return { ok: false, code: "queue_full", message: `The server already has ${maxWaiting} requests waiting; try again in a moment.` };
    }
    const tag = Math.max(this.virtualTime, this.lastTag.get(clientId) ?? 0) + 1;
    const entry: Entry<P, R> = { spec, listener, seq: ++this.seq, tag, state: "waiting", position: -1 };
    this.lastTag.set(clientId, tag);
    this.perClient.set(clientId, (this.perClient.get(clientId) ?? 0) + 1);
    this.active.set(key(clientId, requestId), entry);
    const at = this.waiting.findIndex((e) => e.tag > tag || (e.tag === tag && e.seq > entry.seq));
    this.waiting.splice(at < 0 ? this.waiting.length : at, 0, entry);
    entry.timer = setTimeout(
      () => this.finish(entry, { ok: false, code: "timeout", message: `The request took longer than ${Math.round(timeoutMs / 1000)} s and was stopped.` }),
      timeoutMs,
    );
    this.afterChange();
    return { ok: true, position: Math.max(0, entry.position) };
  }

  /** Cancels a client's request; says where it was, or null when there is no such request. */
  cancel(clientId: string, requestId: string): "waiting" | "running" | null {
    const entry = this.active.get(key(clientId, requestId));
    if (!entry) return null;
    const where = entry.state === "running" ? "running" : "waiting";
    this.finish(entry, { ok: false, code: "cancelled", message: "The request was cancelled." });
    return where;
  }

  /** A client went away: its requests are cancelled without anyone left to tell. */
  dropClient(clientId: string): number {
    const mine = [...this.active.values()].filter((e) => e.spec.clientId === clientId);
    for (const e of mine) this.finish(e, { ok: false, code: "cancelled", message: "The client disconnected." });
    return mine.length;
  }

  stats(): QueueStats {
    return { waiting: this.waiting.length, running: this.running, busy: this.busy, clients: this.perClient.size };
  }

  /** Refuses new work and cancels everything waiting or running. */
  close(): void {
    this.closed = true;
    for (const e of [...this.active.values()]) this.finish(e, { ok: false, code: "cancelled", message: "The server is shutting down." });
  }

  private finish(entry: Entry<P, R>, outcome: Outcome<R>): void {
    if (entry.state === "settled") return;
    const { clientId, requestId } = entry.spec;
    if (entry.state === "waiting") this.waiting.splice(this.waiting.indexOf(entry), 1);
    else {
      this.running--;
      entry.controller?.abort();
    }
    entry.state = "settled";
    clearTimeout(entry.timer);
    this.active.delete(key(clientId, requestId));
    const left = (this.perClient.get(clientId) ?? 1) - 1;
    if (left > 0) this.perClient.set(clientId, left);
    else {
      this.perClient.delete(clientId);
      this.lastTag.delete(clientId);
    }
    try {
      entry.listener.settled(outcome);
    } catch {
      // A listener failing (say, a socket that just closed) must not break the queue.
    }
    this.afterChange();
  }

  private afterChange(): void {
    this.pump();
    this.waiting.forEach((e, i) => {
      if (e.position === i) return;
      e.position = i;
      try {
        e.listener.position?.(i);
      } catch {
        // see finish()
      }
    });
  }

  private pump(): void {
    while (this.busy < this.options.concurrency && this.waiting.length > 0) {
      const group = this.nextGroup();
      this.busy++;
      for (const entry of group) {
        entry.state = "running";
        entry.controller = new AbortController();
        this.virtualTime = Math.max(this.virtualTime, entry.tag);
        this.running++;
        try {
          entry.listener.started?.();
        } catch {
          // see finish()
        }
      }
      Promise.resolve()
        .then(() => this.runGroup(group))
        .then(
          (results) => group.forEach((entry, i) => this.settleRun(entry, results[i] ?? { ok: false, error: new Error("no result for this request") })),
          (error: unknown) => group.forEach((entry) => this.settleRun(entry, { ok: false, error })),
        )
        .finally(() => {
          this.busy--;
          this.pump();
          this.afterChange();
        });
    }
  }

  /** The head of the line, plus (when batching) the waiting requests that may share its run. */
  private nextGroup(): Entry<P, R>[] {
    const head = this.waiting.shift()!;
    const key = this.batching && this.options.maxBatch > 1 ? this.batching.key(head.spec.payload) : null;
    if (key === null) return [head];
    const group = [head];
    let images = this.batching!.size(head.spec.payload);
    for (let i = 0; i < this.waiting.length && images < this.options.maxBatch; ) {
      const e = this.waiting[i];
      const size = this.batching!.size(e.spec.payload);
      if (this.batching!.key(e.spec.payload) === key && images + size <= this.options.maxBatch) {
        group.push(e);
        images += size;
        this.waiting.splice(i, 1);
      } else i++;
    }
    return group;
  }

  private async runGroup(group: Entry<P, R>[]): Promise<MemberResult<R>[]> {
    if (group.length === 1) {
      const [e] = group;
      try {
        return [{ ok: true, result: await this.worker(e.spec.payload, e.controller!.signal) }];
      } catch (error) {
        return [{ ok: false, error }];
      }
    }
    return this.batching!.run(
      group.map((e) => e.spec.payload),
      group.map((e) => e.controller!.signal),
    );
  }

  private settleRun(entry: Entry<P, R>, r: MemberResult<R>): void {
    if (r.ok) return this.finish(entry, { ok: true, result: r.result });
    const error = r.error;
    this.finish(
      entry,
      // A failure the person can act on keeps its code and sentence; anything else is ours.
      error instanceof JobFailure
        ? { ok: false, code: error.code, message: error.message }
        : { ok: false, code: "internal", message: `The server failed while generating (${error instanceof Error ? error.message : String(error)}).` },
    );
  }
}
