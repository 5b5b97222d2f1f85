// npm run bench [-- --requests 60 --clients 1,8,32 --max-batch 8 --variations 1 --packs DIR --pack NAME --skip-options --skip-protocol --json FILE --engine --engine-concurrency N]
// npm run bench:scaling   (= --engine --skip-options --skip-protocol: the table in docs/SCALING.md)
//
// Starts two real servers (child processes, loopback, default pack unless --pack): one running one
// request at a time (--max-batch 1, the behaviour before batching) and one batching waiting
// requests (--max-batch N). With --engine, also a real Ray Serve engine on loopback (.venv-engine,
// test/server/engine-cluster.ts) serving the pack twice, with 1 replica (all cores' threads) and
// with 2 (half each), and a server for each (serve --engine URL, batched). Measures mask-in ->
// PNG-out latency over the WebSocket and throughput for each number of concurrent clients, the
// servers taking turns so that all see the same machine load; prints their ratios, per-stage
// timings, images per run, calls per engine run and CPU per image (server process, engine
// processes). Then the protocol encodings (base64 JSON vs binary frames) and ONNX Runtime session
// options in-process.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { encode } from "fast-png";
import { chooseDefaultPack, loadPacks } from "../server/pack/registry.ts";
import { generate } from "../server/pipeline/generate.ts";
import { closePackRuntime, defaultSessionSettings, openPackRuntime, type SessionSettings } from "../server/pipeline/runtime.ts";
import { base64ToBytes, base64ToBytesPortable, bytesToBase64, bytesToBase64Portable, type HealthResponse, type ImageResult, type PacksResponse } from "../protocol/index.ts";
import { loadOrCreateSecret } from "../server/secret.ts";
import { engineMissing, startLocalEngine, type LocalEngine } from "../test/server/engine-cluster.ts";
import { faceLayout, TestClient } from "../test/server/helpers.ts";

const ROOT = resolve(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "60" },
    clients: { type: "string", default: "1,8,32" },
    "max-batch": { type: "string", default: "8" },
    variations: { type: "string", default: "1" },
    packs: { type: "string", default: resolve(ROOT, "models/packs") },
    pack: { type: "string" },
    "skip-options": { type: "boolean", default: false },
    "skip-protocol": { type: "boolean", default: false },
    /** Also a Ray Serve engine on loopback with 1 and 2 replicas, a server in front of each. */
    engine: { type: "boolean", default: false },
    /** serve --concurrency for the servers in front of the engine (default: the server's own). */
    "engine-concurrency": { type: "string" },
    /** Also write the latency rows as JSON (npm run eval folds them into the pack's results page). */
    json: { type: "string" },
  },
});
const REQUESTS = Number(args.requests);
const CLIENTS = args.clients!.split(",").map(Number);
const MAX_BATCH = Number(args["max-batch"]);
const VARIATIONS = Number(args.variations);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const ms = (x: number) => x.toFixed(1);

const auth: Record<string, string> = {};

interface Child {
  child: ChildProcess;
  url: string;
  wsUrl: string;
  /** Images per network run, from the server's log lines since the last reset. */
  runSizes: number[];
}

/** CPU seconds (user + system) a process has used so far, from /proc (0 where there is none). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

interface Mode {
  label: string;
  maxBatch: number;
  /** serve --engine URL: the networks run there. */
  engine?: string;
}

async function startChild(mode: Mode): Promise<Child> {
  const { maxBatch } = mode;
  const runSizes: number[] = [];
  const cli = ["server/cli.ts", "serve", "--port", "0", "--max-batch", String(maxBatch), "--max-waiting", "64", "--packs", args.packs!, ...(mode.engine ? ["--engine", mode.engine] : []),
    ...(mode.engine && args["engine-concurrency"] ? ["--concurrency", args["engine-concurrency"]] : [])];
  const child = spawn(process.execPath, ["--import", "tsx", ...cli, ...(args.pack ? ["--default-pack", args.pack] : [])], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "pipe"],
  });
  let log = "";
  const url = await new Promise<string>((ok, fail) => {
    let partial = "";
    child.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
      const m = log.match(/listening on (http:\/\/\S+)/);
      if (m) ok(m[1]);
      // After start-up only the run lines are kept: "generated ... n=K" (one or several requests).
      const text = partial + d.toString();
      const lines = text.split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        const n = line.match(/ generated .* n=(\d+)/);
        if (n) runSizes.push(Number(n[1]));
      }
      if (log.length > 100_000) log = log.slice(-10_000);
    });
    child.once("exit", (code) => fail(new Error(`server exited (${code}):\n${log}`)));
  });
  for (const line of log.split("\n")) if (/execution provider|networks run on|packs:/.test(line)) console.log(`server (${mode.label}): ${line.replace(/^\S+ info /, "")}`);
  // The pairing code, found where the server keeps it (it has made it by now).
  auth.authorization = `Bearer ${loadOrCreateSecret().code}`;
  return { child, url, wsUrl: url.replace("http", "ws") + "/ws", runSizes };
}

interface Sample {
  latency: number;
  timings: Record<string, number>;
}

/** One client sending `count` requests one after another; latency = send -> last image. */
async function runClient(wsUrl: string, request: (i: number) => object, count: number, tag: string): Promise<Sample[]> {
  const c = await TestClient.open(wsUrl, auth);
  await c.next((m) => m.type === "welcome");
  const samples: Sample[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${tag}-${i}`;
    const t0 = performance.now();
    c.send({ ...request(i), id });
    const msgs = await c.result(id, 120_000);
    const last = msgs.at(-1)!;
    if (last.type === "error") throw new Error(`${id}: ${last.code} ${last.message}`);
    const imgs = msgs.filter((m): m is ImageResult => m.type === "image");
    samples.push({ latency: performance.now() - t0, timings: imgs[0].timings });
  }
  await c.close();
  return samples;
}

interface Row {
  clients: string;
  requests: number;
  p50: number;
  p95: number;
  throughput: number;
}
const jsonRows: Row[] = [];
let jsonStages: Record<string, number> = {};

/** `clients` clients at once, each sending `per` requests one after another. */
async function runClients(wsUrl: string, request: (seed: number) => object, clients: number, per: number, tag: string): Promise<{ samples: Sample[]; wallMs: number }> {
  const t0 = performance.now();
  const samples = (await Promise.all(Array.from({ length: clients }, (_, c) => runClient(wsUrl, (i) => request(1000 * c + i), per, `${tag}-c${c}`)))).flat();
  return { samples, wallMs: performance.now() - t0 };
}

async function benchServer(): Promise<void> {
  const modes: Mode[] = [
    { label: "one at a time", maxBatch: 1 },
    { label: `batched (max ${MAX_BATCH})`, maxBatch: MAX_BATCH },
  ];
  const servers: Child[] = [];
  let engine: LocalEngine | null = null;
  try {
    if (args.engine) {
      const missing = engineMissing();
      if (missing) throw new Error(`--engine: ${missing}`);
      // The same cores either way: one replica with every core's threads, or two with half each.
      const cores = availableParallelism();
      const half = Math.max(1, Math.floor(cores / 2));
      // Only the measured pack: every pack's replicas would need their own cores.
      const measured = [args.pack ?? chooseDefaultPack(loadPacks(args.packs!, { log: () => {} }).packs.keys(), process.env.PHOTOTYPE_DEFAULT_PACK).name!];
      engine = await startLocalEngine(
        [
          { routePrefix: "/r1", replicas: 1, cpusPerReplica: cores, threads: cores, packs: measured },
          { routePrefix: "/r2", replicas: 2, cpusPerReplica: half, threads: half, packs: measured },
        ],
        2 * cores,
      );
      console.log(`engine: Ray Serve on ${engine.url}: /r1 (1 replica x ${cores} threads), /r2 (2 replicas x ${half} threads)`);
      modes.push({ label: "engine, 1 replica", maxBatch: MAX_BATCH, engine: `${engine.url}/r1` }, { label: "engine, 2 replicas", maxBatch: MAX_BATCH, engine: `${engine.url}/r2` });
    }
    for (const m of modes) servers.push(await startChild(m));
    const batched = servers[1];
    const packs = (await (await fetch(`${batched.url}/packs`, { headers: auth })).json()) as PacksResponse;
    const info = packs.packs.find((p) => p.name === (args.pack ?? packs.defaultPack))!;
    const R = info.resolution;
    const mask = bytesToBase64(faceLayout(info.classes as never, R));
    const request = (seed: number) => ({
      type: "generate",
      pack: info.name,
      condition: { kind: "mask", width: R, height: R, data: mask },
      seed,
      variations: VARIATIONS,
      mode: "final",
    });
    const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
    console.log(`\n## Latency: pack ${info.name} (${R} px), ${VARIATIONS} image(s) a request, mask in -> PNG out over the WebSocket\n`);
    console.log(`load average at start (1/5/15 min): ${load()}, ${availableParallelism()} cores\n`);
    // Warm both: a few requests alone, then one burst so the batched shapes have run once.
    for (const s of servers) {
      await runClient(s.wsUrl, request, 5, "warm");
      await runClients(s.wsUrl, request, Math.max(...CLIENTS), 1, "warm");
    }

    const engineCounts = async (s: Child) => {
      const h = (await (await fetch(`${s.url}/health`, { headers: auth })).json()) as HealthResponse;
      return h.engine ? { calls: h.engine.calls, runs: h.engine.callsPerRun ? h.engine.calls / h.engine.callsPerRun : 0 } : null;
    };
    const enginePids = () => engine?.pids() ?? [];
    const engineCpu = () => enginePids().reduce((a, p) => a + cpuSeconds(p), 0);
    // What the engine's processes (GCS, raylet, controller, proxy, replicas) use doing nothing,
    // taken out of its CPU per image below so that it is the cost of the images alone.
    let idleCores = 0;
    if (engine) {
      const [c0, t0] = [engineCpu(), performance.now()];
      await new Promise((r) => setTimeout(r, 5000));
      idleCores = (engineCpu() - c0) / ((performance.now() - t0) / 1000);
      console.log(`engine processes idle: ${(idleCores * 100).toFixed(0)} % of a core`);
    }
    const lines = [
      "| clients | server | requests | p50 ms | p95 ms | images/s | images a run | calls an engine run | CPU ms an image: server / engine (less its idle use) |",
      "|---|---|---|---|---|---|---|---|---|",
    ];
    const ratios = ["| clients | server | throughput / one at a time | p50 / one at a time | p95 / one at a time |", "|---|---|---|---|---|"];
    const notes: string[] = [];
    for (const clients of CLIENTS) {
      const per = clients === 1 ? REQUESTS : Math.max(3, Math.round(REQUESTS / clients));
      const got: { p50: number; p95: number; tput: number }[] = [];
      for (const [i, s] of servers.entries()) {
        s.runSizes.length = 0;
        const countsBefore = await engineCounts(s);
        const cpuBefore = [cpuSeconds(s.child.pid!), engineCpu()];
        const { samples, wallMs } = await runClients(s.wsUrl, request, clients, per, `m${i}-n${clients}`);
        const cpuAfter = [cpuSeconds(s.child.pid!), engineCpu() - (idleCores * wallMs) / 1000];
        const countsAfter = await engineCounts(s);
        const lat = samples.map((x) => x.latency);
        const images = samples.length * VARIATIONS;
        const tput = images / (wallMs / 1000);
        const perRun = s.runSizes.length ? s.runSizes.reduce((a, b) => a + b, 0) / s.runSizes.length : NaN;
        const callsPerRun = countsBefore && countsAfter ? (countsAfter.calls - countsBefore.calls) / (countsAfter.runs - countsBefore.runs) : NaN;
        const cpu = cpuAfter.map((c, k) => ((c - cpuBefore[k]) * 1000) / images);
        got.push({ p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), tput });
        lines.push(
          `| ${clients} | ${modes[i].label} | ${samples.length} | ${ms(quantile(lat, 0.5))} | ${ms(quantile(lat, 0.95))} | ${tput.toFixed(1)} | ${perRun.toFixed(1)} | ` +
            `${modes[i].engine ? callsPerRun.toFixed(2) : ""} | ${cpu[0].toFixed(1)} / ${modes[i].engine ? cpu[1].toFixed(1) : "-"} |`,
        );
        // The JSON rows keep their old labels for the default (batched) server.
        const label = s === batched ? String(clients) : i === 0 ? `${clients} (one at a time)` : `${clients} (${modes[i].label})`;
        jsonRows.push({ clients: label, requests: samples.length, p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), throughput: tput });
        const stages = Object.keys(samples[0].timings);
        if (s === batched && clients === 1) jsonStages = Object.fromEntries(stages.map((k) => [k, quantile(samples.map((x) => x.timings[k]), 0.5)]));
        notes.push(`${clients} client(s), ${modes[i].label}: ${stages.map((k) => `${k} ${ms(quantile(samples.map((x) => x.timings[k]), 0.5))}`).join(", ")}`);
      }
      const [a] = got;
      for (const [i, b] of got.entries()) if (i > 0) ratios.push(`| ${clients} | ${modes[i].label} | ${(b.tput / a.tput).toFixed(2)} | ${(b.p50 / a.p50).toFixed(2)} | ${(b.p95 / a.p95).toFixed(2)} |`);
    }

    // HTTP for comparison: one script posting raw class-id bytes, PNG back (the default server).
    const raw = new Uint8Array(base64ToBytes(mask));
    const http: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      const s = performance.now();
      const res = await fetch(`${batched.url}/generate?seed=${i}&variations=${VARIATIONS}`, { method: "POST", body: raw, headers: auth });
      await res.arrayBuffer();
      http.push(performance.now() - s);
    }
    const httpWall = performance.now() - t0;
    lines.push(`| 1 (HTTP POST) | ${modes[1].label} | ${REQUESTS} | ${ms(quantile(http, 0.5))} | ${ms(quantile(http, 0.95))} | ${((REQUESTS * VARIATIONS) / (httpWall / 1000)).toFixed(1)} | |`);
    jsonRows.push({ clients: "1 (HTTP POST)", requests: REQUESTS, p50: quantile(http, 0.5), p95: quantile(http, 0.95), throughput: (REQUESTS * VARIATIONS) / (httpWall / 1000) });
    if (args.json) writeFileSync(args.json, JSON.stringify({ pack: info.name, resolution: R, variations: VARIATIONS, maxBatch: MAX_BATCH, rows: jsonRows, stages: jsonStages }, null, 2));
    console.log(lines.join("\n"));
    console.log("\n" + ratios.join("\n"));
    console.log(`\nload average at end (1/5/15 min): ${load()}`);
    console.log("\nstage p50 (ms; a batched request reports its whole run's stages):\n" + notes.join("\n"));
  } finally {
    for (const s of servers) s.child.kill("SIGTERM");
    await engine?.stop();
  }
}

/** A 256 px "photo": smooth gradients plus noise, so it compresses like a real one, not like flat colour. */
function photoLikePng(size: number): Uint8Array {
  const rgba = new Uint8Array(size * size * 4);
  let x = 12345;
  for (let p = 0; p < size * size; p++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const noise = (x >>> 24) % 24;
    const u = (p % size) / size, v = Math.floor(p / size) / size;
    rgba.set([180 * u + noise, 120 + 80 * v + noise, 90 + 60 * u * v + noise, 255], p * 4);
  }
  return encode({ width: size, height: size, data: rgba, channels: 4, depth: 8 });
}

function timeIt(fn: () => unknown, budgetMs = 150): number {
  for (let i = 0; i < 20; i++) fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < budgetMs) {
    fn();
    n++;
  }
  return ((performance.now() - t0) / n) * 1000; // µs
}

function benchProtocol(): void {
  console.log("\n## Protocol: one payload, base64 inside JSON vs a binary frame (JSON header + raw bytes)\n");
  console.log("| payload | raw bytes | base64 JSON frame | binary frame | encode b64 frame (Buffer / portable) µs | decode b64 frame (Buffer / portable) µs | encode / decode binary µs |");
  console.log("|---|---|---|---|---|---|---|");
  const payloads: [string, Uint8Array][] = [];
  for (const R of [64, 256]) payloads.push([`${R} px mask`, faceLayout([{ id: 0, name: "background", label: "", color: "#000000" }, { id: 1, name: "skin", label: "", color: "#FFFFFF" }, { id: 13, name: "hair", label: "", color: "#111111" }], R)]);
  payloads.push(["64 px PNG", photoLikePng(64)], ["256 px PNG", photoLikePng(256)]);
  for (const [label, bytes] of payloads) {
    const header = { type: "image", id: "req-1", index: 0, total: 1, seed: 7, pack: "faces-64", width: 64, height: 64, mode: "final", timings: { g1: 1, g2: 2 } };
    const jsonFrame = () => JSON.stringify({ ...header, png: bytesToBase64(bytes) });
    const jsonFrameBrowser = () => JSON.stringify({ ...header, png: bytesToBase64Portable(bytes) });
    const text = jsonFrame();
    const h = new TextEncoder().encode(JSON.stringify(header));
    const binaryFrame = () => {
      const out = new Uint8Array(4 + h.length + bytes.length);
      new DataView(out.buffer).setUint32(0, h.length);
      out.set(h, 4);
      out.set(bytes, 4 + h.length);
      return out;
    };
    const bin = binaryFrame();
    const encNode = timeIt(jsonFrame), encBrowser = timeIt(jsonFrameBrowser);
    const decNode = timeIt(() => base64ToBytes(JSON.parse(text).png));
    const decBrowser = timeIt(() => base64ToBytesPortable(JSON.parse(text).png));
    const encBin = timeIt(binaryFrame);
    const decBin = timeIt(() => {
      const len = new DataView(bin.buffer).getUint32(0);
      JSON.parse(new TextDecoder().decode(bin.subarray(4, 4 + len)));
      return bin.subarray(4 + len);
    });
    console.log(`| ${label} | ${bytes.length} | ${text.length} | ${bin.length} | ${encNode.toFixed(0)} / ${encBrowser.toFixed(0)} | ${decNode.toFixed(0)} / ${decBrowser.toFixed(0)} | ${encBin.toFixed(0)} / ${decBin.toFixed(0)} |`);
  }
}

async function benchSessionOptions(): Promise<void> {
  const registry = loadPacks(args.packs!, { log: () => {} });
  const pack = registry.packs.get(args.pack ?? chooseDefaultPack(registry.packs.keys()).name ?? "")!;
  const R = pack.manifest.resolution;
  const mask = faceLayout(pack.manifest.classes, R);
  const base = defaultSessionSettings("cpu");
  const variants: [string, SessionSettings][] = [
    [`all, ${base.intraOpNumThreads} threads, no spinning (default)`, base],
    [`all, ${base.intraOpNumThreads} threads, spinning`, { ...base, allowSpinning: true }],
    ["all, 1 thread", { ...base, intraOpNumThreads: 1 }],
    [`disabled, ${base.intraOpNumThreads} threads, no spinning`, { ...base, graphOptimizationLevel: "disabled" }],
  ];
  console.log(`\n## ONNX Runtime session options (in-process pipeline, ${pack.name}, CPU, 1 and 8 images a run)\n`);
  console.log("| options | p50 ms, 1 image | p50 ms, 8 images |");
  console.log("|---|---|---|");
  for (const [label, settings] of variants) {
    const rt = await openPackRuntime(pack, settings);
    const p50 = async (n: number) => {
      for (let i = 0; i < 3; i++) await generate(rt, { mask, seed: i, variations: n });
      const t: number[] = [];
      for (let i = 0; i < 25; i++) t.push((await generate(rt, { mask, seed: i, variations: n })).timings.total);
      return quantile(t, 0.5);
    };
    console.log(`| ${label} | ${ms(await p50(1))} | ${ms(await p50(8))} |`);
    await closePackRuntime(rt);
  }
}

await benchServer();
if (!args["skip-protocol"]) benchProtocol();
if (!args["skip-options"]) await benchSessionOptions();
