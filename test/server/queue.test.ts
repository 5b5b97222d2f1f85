import { afterEach, describe, expect, it, vi } from "vitest";
import { RequestQueue, type JobListener, type Mode, type Outcome } from "../../server/queue.ts";

/** A worker whose runs finish when the test says so. */
function controlledWorker() {
  const runs: { payload: string; signal: AbortSignal; finish: (v: string) => void; fail: (e: Error) => void }[] = [];
  const worker = (payload: string, signal: AbortSignal) =>
    new Promise<string>((finish, fail) => runs.push({ payload, signal, finish, fail }));
  return { runs, worker };
}

function recorder() {
  const events: string[] = [];
  const outcomes = new Map<string, Outcome<string>>();
  const listen = (id: string): JobListener<string> => ({
    position: (p) => events.push(`${id}@${p}`),
    started: () => events.push(`${id} started`),
    settled: (o) => {
      outcomes.set(id, o);
      events.push(`${id} ${o.ok ? "ok" : o.code}`);
    },
  });
  return { events, outcomes, listen };
}

const tick = () => new Promise((r) => setImmediate(r));
const spec = (clientId: string, requestId: string, mode: Mode = "final") => ({ clientId, requestId, mode, payload: requestId });

afterEach(() => vi.useRealTimers());

describe("request queue", () => {
  it("runs up to `concurrency` at once and the rest in order", async () => {
    const { runs, worker } = controlledWorker();
    const q = new RequestQueue(worker, { concurrency: 1 });
    const r = recorder();
    expect(q.submit(spec("a", "1"), r.listen("1"))).toEqual({ ok: true, position: 0 });
    expect(q.submit(spec("b", "2"), r.listen("2"))).toEqual({ ok: true, position: 0 });
    expect(q.submit(spec("c", "3"), r.listen("3"))).toEqual({ ok: true, position: 1 });
    await tick();
    expect(runs.map((x) => x.payload)).toEqual(["1"]);
    expect(q.stats()).toMatchObject({ waiting: 2, running: 1, busy: 1 });
    runs[0].finish("img1");
    await tick();
    expect(r.outcomes.get("1")).toEqual({ ok: true, result: "img1" });
    expect(runs.map((x) => x.payload)).toEqual(["1", "2"]);
    expect(r.events).toContain("3@0"); // moved up when 2 started
    runs[1].finish("img2");
    await tick();
    runs[2].finish("img3");
    await tick();
    expect(q.stats()).toEqual({ waiting: 0, running: 0, busy: 0, clients: 0 });
  });

  it("runs two at once with concurrency 2", async () => {
    const { runs, worker } = controlledWorker();
    const q = new RequestQueue(worker, { concurrency: 2 });
    const r = recorder();
    for (const id of ["1", "2", "3"]) q.submit(spec(id, id), r.listen(id));
    await tick();
    expect(runs.length).toBe(2);
  });

  it("a newer preview replaces the same client's waiting preview, not others'", async () => {
    const { runs, worker } = controlledWorker();
    const q = new RequestQueue(worker, { concurrency: 1 });
    const r = recorder();
    q.submit(spec("a", "busy"), r.listen("busy"));
    q.submit(spec("a", "p1", "preview"), r.listen("p1"));
    q.submit(spec("b", "q1", "preview"), r.listen("q1"));
    q.submit(spec("a", "final", "final"), r.listen("final"));
    q.submit(spec("a", "p2", "preview"), r.listen("p2"));
    expect(r.outcomes.get("p1")).toMatchObject({ ok: false, code: "replaced" });
    expect(r.outcomes.has("q1")).toBe(false);
    expect(r.outcomes.has("final")).toBe(false);
    expect(q.stats().waiting).toBe(3);
    await tick();
    expect(runs.length).toBe(1);
  });

  it("does not replace a preview that is already running", async () => {
    const { runs, worker } = controlledWorker();
    const q = new RequestQueue(worker, { concurrency: 1 });
    const r = recorder();
    q.submit(spec("a", "p1", "preview"), r.listen("p1"));
    q.submit(spec("a", "p2", "preview"), r.listen("p2"));
    await tick();
    expect(r.outcomes.has("p1")).toBe(false);
    runs[0].finish("x");
    await tick();
    expect(r.outcomes.get("p1")).toEqual({ ok: true, result: "x" });
  });

  it("cancels waiting and running requests; a cancelled run's result is discarded", async () => {
    const { runs, worker } = controlledWorker();
    const q = new RequestQueue(worker, { concurrency: 1 });
    const r = recorder();
    q.submit(spec("a", "run"), r.listen("run"));
    q.submit(spec("a", "wait"), r.listen("wait"));
    await tick();
    expect(q.cancel("a", "wait")).toBe("waiting");
    expect(r.outcomes.get("wait")).toMatchObject({ ok: false, code: "cancelled" });
    expect(q.cancel("a", "run")).toBe("running");
    expect(runs[0].signal.aborted).toBe(true);
    expect(r.outcomes.get("run")).toMatchObject({ ok: false, code: "cancelled" });
    expect(q.cancel("a", "run")).toBeNull();
    expect(q.cancel("a", "never")).toBeNull();
    // The aborted run still holds the CPU until it returns; then the next one starts.
    q.submit(spec("a", "next"), r.listen("next"));
    await tick();
    expect(runs.length).toBe(1);
    expect(q.stats()).toMatchObject({ running: 0, busy: 1, waiting: 1 });
    runs[0].finish("late");
    await tick();
    expect(r.outcomes.get("run")).toMatchObject({ code: "cancelled" }); // not overwritten
    expect(r.events.filter((e) => e.startsWith("run ")).length).toBe(2); // started + cancelled, once each
    expect(runs.length).toBe(2);
  });

  it("times out waiting and running requests", async () => {
    vi.useFakeTimers();
    const { runs, worker } = controlledWorker();
    const q = new RequestQueue(worker, { concurrency: 1, timeoutMs: 1000 });
    const r = recorder();
    q.submit(spec("a", "run"), r.listen("run"));
    await vi.advanceTimersByTimeAsync(500);
    q.submit(spec("b", "wait"), r.listen("wait"));
    await vi.advanceTimersByTimeAsync(600);
    expect(r.outcomes.get("run")).toMatchObject({ ok: false, code: "timeout" });
    expect(runs[0].signal.aborted).toBe(true);
    expect(r.outcomes.has("wait")).toBe(false);
    await vi.advanceTimersByTimeAsync(500);
    expect(r.outcomes.get("wait")).toMatchObject({ ok: false, code: "timeout" });
    runs[0].finish("late");
    await vi.advanceTimersByTimeAsync(0);
    expect(q.stats()).toEqual({ waiting: 0, running: 0, busy: 0, clients: 0 });
  });

  it("is bounded: queue_full beyond maxWaiting", () => {
    const { worker } = controlledWorker();
    const q = new RequestQueue(worker, { concurrency: 1, maxWaiting: 3, maxPerClient: 100 });
    const r = recorder();
    const results = Array.from({ length: 6 }, (_, i) => q.submit(spec(`c${i}`, `${i}`), r.listen(`${i}`)));
    expect(results.map((x) => x.ok)).toEqual([true, true, true, true, false, false]);
    expect(results[4]).toMatchObject({ code: "queue_full" });
  });

  it("limits each client (rate_limited) and refuses duplicate ids", () => {
    const { worker } = controlledWorker();
    const q = new RequestQueue(worker, { concurrency: 1, maxPerClient: 2 });
    const r = recorder();
    expect(q.submit(spec("a", "1"), r.listen("1")).ok).toBe(true);
    expect(q.submit(spec("a", "1"), r.listen("1"))).toMatchObject({ ok: false, code: "duplicate_id" });
    expect(q.submit(spec("a", "2"), r.listen("2")).ok).toBe(true);
    expect(q.submit(spec("a", "3"), r.listen("3"))).toMatchObject({ ok: false, code: "rate_limited" });
    expect(q.submit(spec("b", "1"), r.listen("b1")).ok).toBe(true);
  });

  it("is fair: a flooding client gets one turn per round", async () => {
    const { runs, worker } = controlledWorker();
    const q = new RequestQueue(worker, { concurrency: 1, maxPerClient: 10 });
    const r = recorder();
    for (let i = 0; i < 5; i++) q.submit(spec("flood", `f${i}`), r.listen(`f${i}`));
    q.submit(spec("b", "b0"), r.listen("b0"));
    q.submit(spec("c", "c0"), r.listen("c0"));
    q.submit(spec("b", "b1"), r.listen("b1"));
    for (let i = 0; i < 8; i++) {
      await tick();
      runs[i].finish("x");
    }
    await tick();
    expect(runs.map((x) => x.payload)).toEqual(["f0", "f1", "b0", "c0", "f2", "b1", "f3", "f4"]);
  });

  it("cancels a vanished client's requests and forgets it", async () => {
    const { runs, worker } = controlledWorker();
    const q = new RequestQueue(worker, { concurrency: 1 });
    const r = recorder();
    q.submit(spec("a", "1"), r.listen("1"));
    q.submit(spec("a", "2"), r.listen("2"));
    q.submit(spec("b", "3"), r.listen("3"));
    await tick();
    expect(q.dropClient("a")).toBe(2);
    expect(runs[0].signal.aborted).toBe(true);
    runs[0].finish("x");
    await tick();
    expect(runs.map((x) => x.payload)).toEqual(["1", "3"]);
    runs[1].finish("y");
    await tick();
    expect(q.stats()).toEqual({ waiting: 0, running: 0, busy: 0, clients: 0 });
  });

  it("turns a worker failure into an internal error and keeps going", async () => {
    const { runs, worker } = controlledWorker();
    const q = new RequestQueue(worker, { concurrency: 1 });
    const r = recorder();
    q.submit(spec("a", "1"), r.listen("1"));
    q.submit(spec("a", "2"), r.listen("2"));
    await tick();
    runs[0].fail(new Error("boom"));
    await tick();
    expect(r.outcomes.get("1")).toMatchObject({ ok: false, code: "internal" });
    expect(runs.length).toBe(2);
  });

  it("survives a listener that throws", async () => {
    const { runs, worker } = controlledWorker();
    const q = new RequestQueue(worker, { concurrency: 1 });
    q.submit(spec("a", "1"), { settled: () => { throw new Error("socket gone"); } });
    await tick();
    runs[0].finish("x");
    await tick();
    expect(q.stats()).toEqual({ waiting: 0, running: 0, busy: 0, clients: 0 });
  });
});
