// npm run bench [-- --requests 60 --clients 8 --variations 1 --packs DIR --pack NAME --skip-options --skip-protocol --json FILE]
//
// Starts a real server (child process, loopback, default pack unless --pack) and measures
// mask-in -> PNG-out latency over the WebSocket for 1 client and for N concurrent clients,
// per-stage timings and throughput; then the protocol encodings (base64 JSON vs binary
// frames) and the effect of ONNX Runtime session options on the pipeline in-process.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { encode } from "fast-png";
import { loadPacks } from "../server/pack/registry.ts";
import { generate } from "../server/pipeline/generate.ts";
import { closePackRuntime, defaultSessionSettings, openPackRuntime, type SessionSettings } from "../server/pipeline/runtime.ts";
import { base64ToBytes, base64ToBytesPortable, bytesToBase64, bytesToBase64Portable, type ImageResult, type PacksResponse } from "../server/protocol.ts";
import { loadOrCreateSecret } from "../server/secret.ts";
import { faceLayout, TestClient } from "../test/server/helpers.ts";

const ROOT = resolve(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "60" },
    clients: { type: "string", default: "8" },
    variations: { type: "string", default: "1" },
    packs: { type: "string", default: resolve(ROOT, "models/packs") },
    pack: { type: "string" },
    "skip-options": { type: "boolean", default: false },
    "skip-protocol": { type: "boolean", default: false },
    /** Also write the latency rows as JSON (npm run eval folds them into docs/RESULTS.md). */
    json: { type: "string" },
  },
});
const REQUESTS = Number(args.requests);
const CLIENTS = Number(args.clients);
const VARIATIONS = Number(args.variations);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const ms = (x: number) => x.toFixed(1);

const auth: Record<string, string> = {};

async function startChild(): Promise<{ child: ChildProcess; url: string; wsUrl: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "server/cli.ts", "serve", "--port", "0", "--packs", args.packs!, ...(args.pack ? ["--default-pack", args.pack] : [])], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "pipe"],
  });
  let log = "";
  const url = await new Promise<string>((ok, fail) => {
    child.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
      const m = log.match(/listening on (http:\/\/\S+)/);
      if (m) ok(m[1]);
    });
    child.once("exit", (code) => fail(new Error(`server exited (${code}):\n${log}`)));
  });
  for (const line of log.split("\n")) if (/execution provider|packs:/.test(line)) console.log(`server: ${line.replace(/^\S+ info /, "")}`);
  // The pairing code, found where the server keeps it (it has made it by now).
  auth.authorization = `Bearer ${loadOrCreateSecret().code}`;
  return { child, url, wsUrl: url.replace("http", "ws") + "/ws" };
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

function summarise(label: string, samples: Sample[], wallMs: number): string[] {
  const lat = samples.map((s) => s.latency);
  const images = samples.length * VARIATIONS;
  const stages = Object.keys(samples[0].timings);
  jsonRows.push({ clients: label, requests: samples.length, p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), throughput: images / (wallMs / 1000) });
  if (label === "1") jsonStages = Object.fromEntries(stages.map((k) => [k, quantile(samples.map((s) => s.timings[k]), 0.5)]));
  const stageP50 = stages.map((k) => `${k} ${ms(quantile(samples.map((s) => s.timings[k]), 0.5))}`).join(", ");
  return [`| ${label} | ${samples.length} | ${ms(quantile(lat, 0.5))} | ${ms(quantile(lat, 0.95))} | ${(images / (wallMs / 1000)).toFixed(1)} |`, `  stages p50 (ms): ${stageP50}`];
}

async function benchServer(): Promise<void> {
  const { child, url, wsUrl } = await startChild();
  try {
    const packs = (await (await fetch(`${url}/packs`, { headers: auth })).json()) as PacksResponse;
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
    console.log(`\n## Latency: pack ${info.name} (${R} px), ${VARIATIONS} image(s) a request, mask in -> PNG out over the WebSocket\n`);
    await runClient(wsUrl, request, 5, "warm");

    const lines = ["| clients | requests | p50 ms | p95 ms | images/s |", "|---|---|---|---|---|"];
    const notes: string[] = [];
    let t0 = performance.now();
    const one = await runClient(wsUrl, request, REQUESTS, "one");
    let [row, stages] = summarise("1", one, performance.now() - t0);
    lines.push(row);
    notes.push(`1 client: ${stages}`);

    t0 = performance.now();
    const per = Math.max(1, Math.round(REQUESTS / CLIENTS));
    const many = (await Promise.all(Array.from({ length: CLIENTS }, (_, c) => runClient(wsUrl, (i) => request(1000 * c + i), per, `c${c}`)))).flat();
    [row, stages] = summarise(String(CLIENTS), many, performance.now() - t0);
    lines.push(row);
    notes.push(`${CLIENTS} clients: ${stages}`);

    // HTTP for comparison: one script posting raw class-id bytes, PNG back.
    const raw = new Uint8Array(base64ToBytes(mask));
    const http: number[] = [];
    t0 = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      const s = performance.now();
      const res = await fetch(`${url}/generate?seed=${i}&variations=${VARIATIONS}`, { method: "POST", body: raw, headers: auth });
      await res.arrayBuffer();
      http.push(performance.now() - s);
    }
    const httpWall = performance.now() - t0;
    lines.push(`| 1 (HTTP POST) | ${REQUESTS} | ${ms(quantile(http, 0.5))} | ${ms(quantile(http, 0.95))} | ${((REQUESTS * VARIATIONS) / (httpWall / 1000)).toFixed(1)} |`);
    jsonRows.push({ clients: "1 (HTTP POST)", requests: REQUESTS, p50: quantile(http, 0.5), p95: quantile(http, 0.95), throughput: (REQUESTS * VARIATIONS) / (httpWall / 1000) });
    if (args.json) writeFileSync(args.json, JSON.stringify({ pack: info.name, resolution: R, variations: VARIATIONS, rows: jsonRows, stages: jsonStages }, null, 2));
    console.log(lines.join("\n"));
    console.log("\n" + notes.join("\n"));
  } finally {
    child.kill("SIGTERM");
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
  const pack = registry.packs.get(args.pack ?? "") ?? registry.packs.get("faces-64") ?? [...registry.packs.values()][0];
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
