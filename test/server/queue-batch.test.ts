// Batching in the queue (pure: no ONNX). Payloads "k:id:n" batch by key k with n images;
// "-" as key runs alone.
import { describe, expect, it } from "vitest";
import { JobFailure } from "../../server/failure.ts";
import { RequestQueue, type Batching, type JobListener, type MemberResult, type Outcome } from "../../server/queue.ts";

type Run = { payloads: string[]; signals: AbortSignal[]; finish: (r: MemberResult<string>[]) => void; fail: (e: Error) => void };

function setup(maxBatch: number, extra: Partial<ConstructorParameters<typeof RequestQueue>[1]> = {}) {
  const runs: Run[] = [];
  const start = (payloads: string[], signals: AbortSignal[]) =>
    new Promise<MemberResult<string>[]>((finish, fail) => runs.push({ payloads, signals, finish, fail }));
  const worker = async (p: string, s: AbortSignal) => {
    const [r] = await start([p], [s]);
    if (!r.ok) throw r.error;
    return r.result;
  };
  const batching: Batching<string, string> = {
    key: (p) => (p.startsWith("-") ? null : p.split(":")[0]),
    size: (p) => Number(p.split(":")[2] ?? 1),
    run: start,
  };
  const q = new RequestQueue<string, string>(worker, { concurrency: 1, maxPerClient: 8, ...extra, maxBatch }, batching);
  const outcomes = new Map<string, Outcome<string>>();
  const started: string[] = [];
  const listen = (id: string): JobListener<string> => ({ started: () => started.push(id), settled: (o) => outcomes.set(id, o) });
  const submit = (client: string, payload: string) => q.submit({ clientId: client, requestId: payload, mode: "final", payload }, listen(payload));
  const okAll = (run: Run) => run.finish(run.payloads.map((p) => ({ ok: true, result: `img ${p}` })));
  return { q, runs, outcomes, started, submit, okAll };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("batching in the queue", () => {
  it("runs the waiting requests of one key together, in fair order, up to maxBatch images", async () => {
    const t = setup(4);
    t.submit("a", "p:1:1"); // runs at once, alone
    t.submit("a", "p:2:1");
    t.submit("b", "p:3:2");
    t.submit("c", "q:4:1"); // another key: waits
    t.submit("d", "p:5:1");
    t.submit("e", "p:6:1"); // over the cap (1 + 2 + 1 = 4 already)
    await tick();
    expect(t.runs.map((r) => r.payloads)).toEqual([["p:1:1"]]);
    t.okAll(t.runs[0]);
    await tick();
    // Fair order (all tagged one round later than the running request, then by arrival), skipping
    // the other key, until the cap: 1 + 2 + 1 = 4 images, so e waits.
    expect(t.runs[1].payloads).toEqual(["p:2:1", "p:3:2", "p:5:1"]);
    expect(t.started).toEqual(["p:1:1", "p:2:1", "p:3:2", "p:5:1"]);
    t.okAll(t.runs[1]);
    await tick();
    expect(t.runs[2].payloads).toEqual(["q:4:1"]); // the head of the line is never skipped
    t.okAll(t.runs[2]);
    await tick();
    expect(t.runs[3].payloads).toEqual(["p:6:1"]);
    t.okAll(t.runs[3]);
    await tick();
    expect([...t.outcomes.values()].every((o) => o.ok)).toBe(true);
    expect(t.outcomes.get("p:5:1")).toEqual({ ok: true, result: "img p:5:1" });
    expect(t.q.stats()).toEqual({ waiting: 0, running: 0, busy: 0, clients: 0 });
  });

  it("maxBatch 1 runs one request at a time, as before", async () => {
    const t = setup(1);
    for (const id of ["p:1", "p:2", "p:3"]) t.submit(id, id);
    await tick();
    for (let i = 0; i < 3; i++) {
      expect(t.runs[i].payloads).toHaveLength(1);
      t.okAll(t.runs[i]);
      await tick();
    }
    expect(t.outcomes.size).toBe(3);
  });

  it("keys that may not batch run alone, and a big request still runs", async () => {
    const t = setup(4);
    t.submit("a", "-x:1");
    t.submit("b", "-x:2");
    t.submit("c", "p:3:8");
    await tick();
    t.okAll(t.runs[0]);
    await tick();
    expect(t.runs[1].payloads).toEqual(["-x:2"]);
    t.okAll(t.runs[1]);
    await tick();
    expect(t.runs[2].payloads).toEqual(["p:3:8"]);
  });

  it("a member cancelled or timed out mid-run settles at once; the others get their results", async () => {
    const t = setup(8, { timeoutMs: 60_000 });
    t.submit("a", "-first");
    for (const id of ["p:1", "p:2", "p:3"]) t.submit(id, id);
    await tick();
    t.okAll(t.runs[0]);
    await tick();
    const run = t.runs[1];
    expect(run.payloads).toEqual(["p:1", "p:2", "p:3"]);
    expect(t.q.cancel("p:2", "p:2")).toBe("running");
    expect(t.outcomes.get("p:2")).toMatchObject({ ok: false, code: "cancelled" });
    expect(run.signals.map((s) => s.aborted)).toEqual([false, true, false]);
    expect(t.q.stats().busy).toBe(1); // the run holds its slot until it returns
    run.finish(run.payloads.map((p) => ({ ok: true, result: `img ${p}` })));
    await tick();
    expect(t.outcomes.get("p:1")).toEqual({ ok: true, result: "img p:1" });
    expect(t.outcomes.get("p:2")).toMatchObject({ code: "cancelled" }); // settled once
    expect(t.outcomes.get("p:3")).toEqual({ ok: true, result: "img p:3" });
    expect(t.q.stats().busy).toBe(0);
  });

  it("per-member errors stay with their member; a run that throws fails only its members", async () => {
    const t = setup(8);
    t.submit("a", "-first");
    for (const id of ["p:1", "p:2", "p:3"]) t.submit(id, id);
    await tick();
    t.okAll(t.runs[0]);
    await tick();
    t.runs[1].finish([
      { ok: true, result: "img 1" },
      { ok: false, error: new JobFailure("no_face", "No face.") },
      { ok: false, error: new Error("boom") },
    ]);
    await tick();
    expect(t.outcomes.get("p:1")).toEqual({ ok: true, result: "img 1" });
    expect(t.outcomes.get("p:2")).toEqual({ ok: false, code: "no_face", message: "No face." });
    expect(t.outcomes.get("p:3")).toMatchObject({ ok: false, code: "internal" });
    t.submit("a", "-second");
    for (const id of ["r:4", "r:5"]) t.submit(id, id);
    await tick();
    t.okAll(t.runs[2]);
    await tick();
    t.runs[3].fail(new Error("crash"));
    await tick();
    expect(t.outcomes.get("r:4")).toMatchObject({ ok: false, code: "internal" });
    expect(t.outcomes.get("r:5")).toMatchObject({ ok: false, code: "internal" });
    expect(t.q.stats()).toEqual({ waiting: 0, running: 0, busy: 0, clients: 0 });
  });
});
