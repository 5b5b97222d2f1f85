// npx tsx scripts/measure-bombs.ts png-http:20000 png-ws:20000 png-http:0 jpeg-http:20000 ...
//
// Decompression bombs against a real server in a child process, one at a time: how long the answer
// takes, the worst /health latency while it is handled (polled every 50 ms), and the server's RSS.
// KIND:SIDE with KIND png-http | png-ws | jpeg-http | jpeg-ws; SIDE 0 = the largest PNG the 2 MiB
// body cap allows. Prints numbers; docs/ARCHITECTURE.md quotes them (run at an older commit for "before").
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";
import { bytesToBase64 } from "../protocol/index.ts";
import { jpegBomb, largestPngBomb, pngBomb } from "../test/server/bombs.ts";

const port = 8900 + Math.floor(Math.random() * 50);
const env = { ...process.env, PHOTOTYPE_CONFIG_DIR: process.env.PHOTOTYPE_CONFIG_DIR ?? mkdtempSync(join(tmpdir(), "phototype-bombs-")) };
const child = spawn(process.execPath, ["--import", "tsx", "server/cli.ts", "serve", "--port", String(port)], { env, stdio: ["ignore", "inherit", "pipe"] });
let log = "";
child.stderr.on("data", (d) => (log += d));
const status = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]) / 1024;
const base = `http://127.0.0.1:${port}`;
let secret = "";
const auth = (): Record<string, string> => (secret ? { authorization: `Bearer ${secret}` } : {});

async function health(): Promise<number> {
  const t = performance.now();
  try {
    await fetch(`${base}/health`, { headers: auth() });
  } catch {
    return Infinity;
  }
  return performance.now() - t;
}

async function overHttp(body: Uint8Array): Promise<string> {
  try {
    const res = await fetch(`${base}/generate`, { method: "POST", body: new Uint8Array(body), headers: { "content-type": "image/png", ...auth() } });
    return `${res.status} ${(await res.text()).slice(0, 160)}`;
  } catch (e) {
    return `failed ${(e as { cause?: { code?: string } }).cause?.code ?? e}`;
  }
}

function overWebSocket(body: Uint8Array): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${secret ? `?token=${secret}` : ""}`, { headers: { origin: "null" } });
  return new Promise((resolve) => {
    ws.on("message", (d) => {
      const m = JSON.parse(String(d));
      if (m.type === "welcome") {
        ws.send(JSON.stringify({ type: "generate", id: "b", pack: m.defaultPack, condition: { kind: "edges", photo: bytesToBase64(body) }, seed: 1, variations: 1, mode: "final" }));
      } else if (m.type === "error" || m.type === "done") {
        resolve(`${m.type} ${m.code ?? ""} ${(m.message ?? "").slice(0, 140)}`);
        ws.close();
      }
    });
  });
}

while (!/listening/.test(log)) await new Promise((r) => setTimeout(r, 200));
try {
  secret = readFileSync(join(env.PHOTOTYPE_CONFIG_DIR, "secret"), "utf8").trim();
} catch {
  // a server from before pairing codes: no secret
}
await health();
for (const name of process.argv.slice(2)) {
  const [kind, sideText] = name.split(":");
  const side = Number(sideText);
  const body = kind.startsWith("jpeg") ? jpegBomb(side, side) : side === 0 ? largestPngBomb(2 * 1024 * 1024) : pngBomb(side);
  const before = status("VmRSS");
  let worst = 0;
  let done = false;
  const poll = (async () => {
    while (!done) {
      worst = Math.max(worst, await health());
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const t = performance.now();
  const answer = kind.endsWith("http") ? await overHttp(body) : await overWebSocket(body);
  const ms = performance.now() - t;
  done = true;
  await poll;
  console.log(`${name} (${body.length} B): answered in ${ms.toFixed(0)} ms; worst /health ${worst.toFixed(0)} ms; ` +
    `RSS ${before.toFixed(0)} -> ${status("VmRSS").toFixed(0)} MB (peak ${status("VmHWM").toFixed(0)}); ${answer}`);
}
child.kill("SIGTERM");
