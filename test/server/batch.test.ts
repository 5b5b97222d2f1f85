// Batched runs with the real networks of the default pack: the same request gives the same PNG
// bytes alone or inside a batch, and in the engine a bad or cancelled member leaves the others alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEngine, type Engine } from "../../server/engine.ts";
import type { Job, JobResult } from "../../server/jobs.ts";
import { generateBatch, type DrawnRequest } from "../../server/pipeline/batch.ts";
import { generate } from "../../server/pipeline/generate.ts";
import { NO_STROKE } from "../../protocol/index.ts";
import type { Outcome } from "../../server/queue.ts";
import { defaultTestPack, faceLayout, PACKS_DIR } from "./helpers.ts";

const pack = defaultTestPack();
const R = pack.manifest.resolution;
const layout = faceLayout(pack.manifest.classes, R);
const moved = faceLayout(pack.manifest.classes, R, { cx: 0.45, cy: 0.55, s: 0.9, hair: 1 });
/** Part outlines: a pen sketch. */
const sketch = Uint8Array.from(layout, (v, p) => (p % R < R - 1 && p < R * (R - 1) && (v !== layout[p + 1] || v !== layout[p + R]) ? 1 : 0));
/** The layout's middle rows only: a scribble. */
const scribble = Uint8Array.from(layout, (v, p) => (Math.floor(p / R) % 8 === 4 ? v : NO_STROKE));

const lines: string[] = [];
const log = { info: (l: string) => lines.push(l), warn: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
let engine: Engine;
beforeAll(async () => {
  engine = await createEngine({ packsDir: PACKS_DIR, defaultPack: pack.name, warmup: false, log, provider: "cpu" });
});
afterAll(() => engine?.close());

const rt = () => engine.runtimes.get(pack.name)!;
const alone = async (r: DrawnRequest) => (await generate(rt(), { ...r, condition: r.condition })).images.map((i) => i.png);
const job = (id: string, r: DrawnRequest, onStage?: Job["onStage"]): Job => ({ requestId: id, pack: pack.name, task: { kind: "generate", input: r }, onStage });

/** Submits jobs back to back (the first starts at once; the rest wait and share a run). */
function submitAll(jobs: Job[]): { done: Promise<Map<string, Outcome<JobResult>>> } {
  const outcomes = new Map<string, Outcome<JobResult>>();
  const done = new Promise<Map<string, Outcome<JobResult>>>((resolve) => {
    for (const j of jobs) {
      const res = engine.queue.submit({ clientId: j.requestId, requestId: j.requestId, mode: "final", payload: j }, {
        settled: (o) => {
          outcomes.set(j.requestId, o);
          if (outcomes.size === jobs.length) resolve(outcomes);
        },
      });
      expect(res.ok).toBe(true);
    }
  });
  return { done };
}

const pngs = (o: Outcome<JobResult> | undefined) => {
  if (!o?.ok || o.result.kind !== "generate") throw new Error(`no images: ${JSON.stringify(o)}`);
  return o.result.images.map((i) => i.png);
};

describe("batched generation", () => {
  const requests: DrawnRequest[] = [
    { condition: { kind: "mask", data: layout }, seed: 7, variations: 1 },
    { condition: { kind: "sketch", data: sketch }, seed: 11, variations: 2 },
    { condition: { kind: "mask", data: moved }, seed: 7, variations: 1, truncation: 0.5 },
    { condition: { kind: "scribble", data: scribble }, seed: 4294967295, variations: 2 },
  ];

  it("gives each request the bytes it gets alone (mixed kinds, variations, truncations)", async () => {
    const together = await generateBatch(rt(), requests);
    expect(together.map((o) => o.images.length)).toEqual([1, 2, 1, 2]);
    expect(together[3].images.map((i) => i.seed)).toEqual([4294967295, 0]);
    for (let i = 0; i < requests.length; i++) expect(together[i].images.map((x) => x.png)).toEqual(await alone(requests[i]));
    expect(together[0].images[0].png).not.toEqual(together[2].images[0].png);
  });

  it("shares one run in the engine's queue, with progress for each request", async () => {
    lines.length = 0;
    const stages = new Map<string, string[]>();
    const jobs = requests.map((r, i) => job(`j${i}`, r, (s) => stages.set(`j${i}`, [...(stages.get(`j${i}`) ?? []), s])));
    const outcomes = await submitAll(jobs).done;
    for (let i = 0; i < requests.length; i++) expect(pngs(outcomes.get(`j${i}`))).toEqual(await alone(requests[i]));
    expect(lines.some((l) => /generated j1, j2, j3 in one run/.test(l))).toBe(true);
    for (const j of jobs) expect(stages.get(j.requestId)).toEqual(["mapping", "generating", "encoding"]);
  });

  it("a member that breaks the batched run fails alone; a cancelled member does not stop the others", async () => {
    lines.length = 0;
    const bad: DrawnRequest = { condition: { kind: "mask", data: layout.subarray(0, 10) }, seed: 1, variations: 1 }; // skipped validation
    const jobs = [job("k0", requests[0]), job("k1", requests[0]), job("bad", bad), job("k2", requests[2]), job("gone", requests[1])];
    const { done } = submitAll(jobs);
    expect(engine.queue.cancel("gone", "gone")).toBe("waiting");
    const outcomes = await done;
    expect(outcomes.get("bad")).toMatchObject({ ok: false, code: "internal" });
    expect(outcomes.get("gone")).toMatchObject({ ok: false, code: "cancelled" });
    expect(pngs(outcomes.get("k1"))).toEqual(await alone(requests[0]));
    expect(pngs(outcomes.get("k2"))).toEqual(await alone(requests[2]));
    expect(lines.some((l) => /running them one by one/.test(l))).toBe(true);
    expect(engine.queue.stats()).toMatchObject({ waiting: 0, running: 0, busy: 0 });
  });
});
