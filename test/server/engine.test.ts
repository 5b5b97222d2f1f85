// serve --engine against a real Ray Serve engine on loopback (engine-cluster.ts; never a stand-in):
// the same PNG bytes as in-process sessions, alone and batched, and the faults: a replica killed
// mid-batch, a slow engine, the engine down at start and killed mid-job. Clients get images or a
// typed error within the job's timeout, the server stays up, and nothing hangs.
// Skipped only where .venv-engine is missing and CI is not set; in CI it must run.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, type Logger } from "../../server/log.ts";
import { bytesToBase64, type ErrorMessage, type HealthResponse, type ImageResult, type LayoutResult, type PacksResponse, type ServerMessage } from "../../protocol/index.ts";
import { startServer, type RunningServer, type ServeOptions } from "../../server/server.ts";
import { engineMissing, freePort, startLocalEngine, type LocalEngine } from "./engine-cluster.ts";
import { authFetch, defaultTestPack, faceLayout, openClient } from "./helpers.ts";
import { rgbPng, syntheticFace } from "./images.ts";

const missing = engineMissing();
const skip = missing !== null && !process.env.CI;
if (skip) console.warn(`engine tests skipped: ${missing}`);

const pack = defaultTestPack();
// Servers here see only the pack under test, as the engine serves only it (4 CPU slots, one a
// replica); /health counts the engine reachable only when it serves every pack the server has.
const PACK_DIR = mkdtempSync(join(tmpdir(), "phototype-engine-packs-"));
mkdirSync(join(PACK_DIR, pack.name));
for (const f of readdirSync(pack.dir)) symlinkSync(join(pack.dir, f), join(PACK_DIR, pack.name, f));
const R = pack.manifest.resolution;
const layout = faceLayout(pack.manifest.classes, R);
const moved = faceLayout(pack.manifest.classes, R, { cx: 0.45, cy: 0.55, s: 0.9, hair: 1 });
const photo = rgbPng(syntheticFace(pack.manifest.classes, faceLayout(pack.manifest.classes, R), R, 3), R, R);
/** Each call to the "/slow" app waits this long before running (the engine's test-only knob). */
const SLOW_MS = 300;
/** The "/slow" app also asks servers for a token (phototype engine --token). */
const TOKEN = "engine-test-token";

let engine: LocalEngine;
let inProcess: RunningServer;
const fronts: RunningServer[] = [];
const logLines: string[] = [];
const recording: Logger = { info: (l) => logLines.push(l), warn: (l) => logLines.push(l), error: (l) => logLines.push(l) };

async function front(url: string, extra: Partial<ServeOptions> & { engineTimeoutMs?: number } = {}): Promise<RunningServer> {
  const { engineTimeoutMs, ...rest } = extra;
  const token = url.includes("/slow") ? TOKEN : undefined;
  const s = await startServer({ port: 0, packsDir: PACK_DIR, warmup: false, log: recording, remote: { url, timeoutMs: engineTimeoutMs ?? 20_000, token }, ...rest });
  fronts.push(s);
  return s;
}

const generate = (id: string, seed: number, extra: Record<string, unknown> = {}) => ({
  type: "generate",
  id,
  pack: pack.name,
  condition: { kind: "mask", width: R, height: R, data: bytesToBase64(layout) },
  seed,
  variations: 1,
  mode: "final",
  ...extra,
});
const pngsOf = (msgs: ServerMessage[]) => msgs.filter((m): m is ImageResult => m.type === "image").map((m) => m.png);
const errorOf = (msgs: ServerMessage[]) => msgs.find((m): m is ErrorMessage => m.type === "error");

/** Sends `message` on a fresh connection and returns every answer to it. */
async function ask(server: RunningServer, message: { id: string } & Record<string, unknown>, timeoutMs = 60_000): Promise<ServerMessage[]> {
  const c = await openClient(server);
  try {
    c.send(message);
    return await c.result(message.id, timeoutMs);
  } finally {
    await c.close();
  }
}

async function health(server: RunningServer): Promise<HealthResponse> {
  return (await (await authFetch(server, "/health")).json()) as HealthResponse;
}

async function settled(server: RunningServer, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const q = (await health(server)).queue;
    if (q.running === 0 && q.waiting === 0) return;
    if (Date.now() > until) throw new Error(`queue still busy: ${JSON.stringify(q)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(skip)("serve --engine (Ray Serve on loopback)", () => {
  beforeAll(async () => {
    [engine, inProcess] = await Promise.all([
      // Two apps: the pack under test as it is, and a slow copy (each call waits SLOW_MS first); two
      // replicas each, one ONNX Runtime thread a replica (this machine has few cores). Only that
      // pack: the test cluster has 4 CPU slots, one a replica.
      startLocalEngine([
        { replicas: 2, threads: 1, packs: [pack.name] },
        // Calls on the slow route wait SLOW_MS, then up to 20 ms for others to share a run with.
        { replicas: 2, threads: 1, packs: [pack.name], routePrefix: "/slow", testDelayMs: SLOW_MS, token: TOKEN, batchWaitMs: 20 },
      ]),
      startServer({ port: 0, packsDir: PACK_DIR, warmup: false, log: silentLogger, provider: "cpu" }),
    ]);
  }, 300_000);
  afterAll(async () => {
    await Promise.allSettled(fronts.map((s) => s.close()));
    await inProcess?.close();
    await engine?.stop();
    rmSync(PACK_DIR, { recursive: true, force: true });
    if (engine) expect(engine.pids()).toEqual([]);
  }, 60_000);

  it("gives the same PNG bytes as in-process sessions, for drawn and photo conditions", async () => {
    const server = await front(engine.url);
    const h = await health(server);
    expect(h.provider).toBe("engine");
    expect(h.engine).toMatchObject({ url: engine.url, reachable: true, calls: 0 });
    const packs = (await (await authFetch(server, "/packs")).json()) as PacksResponse;
    const local = (await (await authFetch(inProcess, "/packs")).json()) as PacksResponse;
    expect(packs).toEqual(local);

    const requests = [
      generate("a", 7, { variations: 4 }),
      generate("b", 11, { condition: { kind: "mask", width: R, height: R, data: bytesToBase64(moved) }, variations: 2, truncation: 0.5 }),
      generate("c", 4294967295, { condition: { kind: "exemplar", photo: bytesToBase64(photo) }, variations: 2 }),
      generate("d", 5, { source: { kind: "photo", photo: bytesToBase64(photo) }, restyle: { classes: [pack.manifest.classes.find((c) => c.name === "hair")!.id], seed: 9 }, variations: 2 }),
    ];
    for (const r of requests) {
      const [there, here] = [await ask(server, r), await ask(inProcess, r)];
      expect(errorOf(there)).toBeUndefined();
      expect(pngsOf(there).length).toBe(r.variations);
      expect(pngsOf(there)).toEqual(pngsOf(here));
    }
    // The engine itself refuses a call for another version of a network, or a body that is not tensors.
    const wrong = await fetch(`${engine.url}/${pack.name}/g1`, { method: "POST", headers: { "x-phototype-sha256": "0".repeat(64) }, body: "x" });
    expect(wrong.status).toBe(409);
    const junk = await fetch(`${engine.url}/${pack.name}/g1`, { method: "POST", body: "not tensors" });
    expect(junk.status).toBe(400);
    expect(await junk.text()).toMatch(/not a tensor body/);
    // Inverting a photo (parser on the engine) gives the same shapes.
    const invert = { type: "invert", id: "inv", pack: pack.name, photo: bytesToBase64(photo) };
    const layoutOf = (msgs: ServerMessage[]) => msgs.find((m): m is LayoutResult => m.type === "layout");
    const [there, here] = [layoutOf(await ask(server, invert))!, layoutOf(await ask(inProcess, invert))!];
    expect(there.data).toEqual(here.data);
    expect(there.polygons).toEqual(here.polygons);
  });

  it("gives the same bytes when 8 clients' requests share runs, here and in the engine's batches", async () => {
    const server = await front(engine.url);
    const seeds = Array.from({ length: 8 }, (_, i) => 100 + i);
    const here = await Promise.all(seeds.map((s) => ask(inProcess, generate(`h${s}`, s, { variations: 1 + (s % 2) }))));
    const there = await Promise.all(seeds.map((s) => ask(server, generate(`t${s}`, s, { variations: 1 + (s % 2) }))));
    there.forEach((msgs, i) => {
      expect(errorOf(msgs)).toBeUndefined();
      expect(pngsOf(msgs)).toEqual(pngsOf(here[i]));
    });
    // A server that runs 8 requests at once, one each (no batching here): the engine batches
    // their calls (@serve.batch), and the bytes are still the same. On the slow route every call
    // waits SLOW_MS first and a run waits 20 ms for company, so the 8 runs' calls share runs however
    // idle the machine (on the plain route a fast machine can finish each call before the next arrives).
    const unbatched = await front(`${engine.url}/slow`, { queue: { maxBatch: 1, concurrency: 8 } });
    const alone = await Promise.all(seeds.map((s) => ask(unbatched, generate(`u${s}`, s, { variations: 1 + (s % 2) }))));
    alone.forEach((msgs, i) => expect(pngsOf(msgs)).toEqual(pngsOf(here[i])));
    const counts = (await health(unbatched)).engine!;
    expect(counts.calls).toBeGreaterThanOrEqual(8 * 5);
    expect(counts.callsPerRun).toBeGreaterThan(1);
    // Over HTTP too: the same route, the same queue.
    const res = await authFetch(server, `/generate?seed=7&variations=4`, { method: "POST", body: layout });
    const ref = await authFetch(inProcess, `/generate?seed=7&variations=4`, { method: "POST", body: layout });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from(await ref.arrayBuffer()));
  });

  it("retries when a replica is killed mid-batch: every client gets its images, the same bytes", async () => {
    // Without the engine's token a server is refused, with a sentence, and never retried.
    const stranger = await startServer({ port: 0, packsDir: PACK_DIR, warmup: false, log: silentLogger, remote: { url: `${engine.url}/slow` } });
    fronts.push(stranger);
    const refused = errorOf(await ask(stranger, generate("x", 1)));
    expect(refused?.code).toBe("engine_unavailable");
    expect(refused?.message).toMatch(/another token/);
    expect((await fetch(`${engine.url}/slow/${pack.name}/`)).status).toBe(401);

    // Six runs at once (no batching here), so both replicas always hold calls.
    const server = await front(`${engine.url}/slow`, { queue: { maxBatch: 1, concurrency: 6 } });
    const before = engine.replicaPids("slow-" + pack.name);
    expect(before.length).toBe(2);
    logLines.length = 0;
    const clients = Array.from({ length: 6 }, (_, i) => ask(server, generate(`k${i}`, 300 + i, { variations: 2 }), 90_000));
    // Every network call waits SLOW_MS in a replica: kill one while calls are inside it.
    await new Promise((r) => setTimeout(r, 2.5 * SLOW_MS));
    process.kill(before[0], "SIGKILL");
    const answers = await Promise.all(clients);
    const reference = await Promise.all(answers.map((_, i) => ask(inProcess, generate(`kr${i}`, 300 + i, { variations: 2 }))));
    answers.forEach((msgs, i) => {
      expect(errorOf(msgs)).toBeUndefined();
      expect(pngsOf(msgs)).toEqual(pngsOf(reference[i]));
    });
    // The replica really died, and Ray Serve replaced it. Whether a client's call was inside it
    // (then the server retried once, and says so in its log) or Ray's proxy rerouted it, no client saw it.
    expect(engine.replicaPids("slow-" + pack.name)).not.toContain(before[0]);
    expect((await health(server)).status).toBe("ok");
    await settled(server);
  });

  it("a slow engine: engine_timeout past --engine-timeout, the job's timeout before it; the server stays free", async () => {
    const timeoutFront = await front(`${engine.url}/slow`, { engineTimeoutMs: SLOW_MS / 3 });
    let t0 = Date.now();
    const slow = await ask(timeoutFront, generate("s1", 1));
    expect(errorOf(slow)?.code).toBe("engine_timeout");
    expect(errorOf(slow)?.message).toMatch(/took longer than/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await settled(timeoutFront);

    // The job's own deadline (--timeout) cuts a run that is still waiting on the engine, and the
    // worker slot is free again at once (the engine call is aborted, not left running).
    const jobFront = await front(`${engine.url}/slow`, { queue: { timeoutMs: 2 * SLOW_MS } });
    t0 = Date.now();
    const late = await ask(jobFront, generate("s2", 2, { variations: 4 }));
    expect(errorOf(late)?.code).toBe("timeout");
    expect(Date.now() - t0).toBeLessThan(5_000);
    await settled(jobFront, 2_000);
    const res = await authFetch(jobFront, "/generate?seed=3", { method: "POST", body: layout });
    expect(res.status).toBe(504);
    expect(((await res.json()) as ErrorMessage).code).toBe("timeout");
    expect((await health(jobFront)).status).toBe("ok");
  });

  it("the engine down at start: the server starts, says so in /health, answers engine_unavailable", async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    logLines.length = 0;
    const server = await front(nobody, { warmup: true });
    expect(logLines.some((l) => l.includes(`engine at ${nobody} cannot serve it yet`))).toBe(true);
    const h = await health(server);
    expect(h.status).toBe("ok");
    expect(h.engine?.reachable).toBe(false);
    expect(h.engine?.message).toMatch(/ECONNREFUSED/);
    const t0 = Date.now();
    const msgs = await ask(server, generate("u1", 1));
    expect(errorOf(msgs)?.code).toBe("engine_unavailable");
    expect(errorOf(msgs)?.message).toMatch(/not answering right now/);
    expect(Date.now() - t0).toBeLessThan(5_000);
    const res = await authFetch(server, "/generate?seed=1", { method: "POST", body: layout });
    expect(res.status).toBe(503);
    // A batch of waiting requests fails together, once, without rerunning each against a dead engine.
    const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => ask(server, generate(`u${i + 2}`, i))));
    for (const b of burst) expect(errorOf(b)?.code).toBe("engine_unavailable");
    await settled(server);
  });

  // Last: it ends the engine.
  it("the engine killed mid-job: engine_unavailable within the job's timeout, the server stays up", async () => {
    const server = await front(`${engine.url}/slow`, { queue: { timeoutMs: 30_000 } });
    const clients = Array.from({ length: 4 }, (_, i) => ask(server, generate(`d${i}`, 400 + i, { variations: 2 }), 60_000));
    await new Promise((r) => setTimeout(r, 2.5 * SLOW_MS));
    const t0 = Date.now();
    engine.kill();
    const answers = await Promise.all(clients);
    for (const msgs of answers) expect(errorOf(msgs)?.code).toBe("engine_unavailable");
    expect(Date.now() - t0).toBeLessThan(15_000);
    const h = await health(server);
    expect(h.status).toBe("ok");
    expect(h.engine?.reachable).toBe(false);
    expect(errorOf(await ask(server, generate("d9", 9)))?.code).toBe("engine_unavailable");
    await settled(server);
    await engine.stop();
    expect(engine.pids()).toEqual([]);
  });
});
