// npm run load-test [-- --clients 32 --requests 10 --variations 1]
//
// A benchmark, not a timed test: a real server in a child process (default pack, real ONNX
// sessions), first one client alone, then `clients` clients at once, each sending `requests`
// POST /generate one after another with its own seeds. Every image must be byte-identical to the
// lone client's image for the same seed; /health is polled every 50 ms throughout and its p95
// must stay within 250 ms. Prints p50/p95 latency and images/s for both, in one run; exits 1
// when a bar is missed.
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { startChildServer } from "../test/server/child-server.ts";
import { authFetch, defaultTestPack, faceLayout } from "../test/server/helpers.ts";

const { values } = parseArgs({
  options: { clients: { type: "string", default: "32" }, requests: { type: "string", default: "10" }, variations: { type: "string", default: "1" } },
});
const CLIENTS = Number(values.clients), REQUESTS = Number(values.requests), VARIATIONS = Number(values.variations);
const HEALTH_P95_MS = 250;

const pack = defaultTestPack();
const mask = faceLayout(pack.manifest.classes, pack.manifest.resolution);
const seedOf = (client: number, i: number) => client * 1000 + i * VARIATIONS;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const ms = (x: number) => `${x.toFixed(0)} ms`;

const server = await startChildServer();
try {
  /** /health every 50 ms until stopped: its latencies. */
  const pollHealth = () => {
    const latencies: number[] = [];
    let on = true;
    const done = (async () => {
      while (on) {
        const t = performance.now();
        const res = await authFetch(server, "/health", { signal: AbortSignal.timeout(10_000) }).catch(() => null);
        await res?.arrayBuffer();
        latencies.push(res?.ok ? performance.now() - t : Infinity);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    return async () => {
      on = false;
      await done;
      return latencies;
    };
  };

  async function generate(seed: number): Promise<{ ms: number; png: Buffer }> {
    const t = performance.now();
    const res = await authFetch(server, `/generate?seed=${seed}&variations=${VARIATIONS}`, { method: "POST", body: new Uint8Array(mask) });
    const png = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`seed ${seed}: HTTP ${res.status} ${png.toString().slice(0, 200)}`);
    return { ms: performance.now() - t, png };
  }

  type Phase = { latencies: number[]; seconds: number; health: number[] };
  const lone = new Map<number, Buffer>();

  // One client alone: the reference bytes and the single-client numbers.
  const stopLone = pollHealth();
  let t = performance.now();
  const loneLatencies: number[] = [];
  for (let c = 0; c < CLIENTS; c++) {
    for (let i = 0; i < REQUESTS; i++) {
      const r = await generate(seedOf(c, i));
      lone.set(seedOf(c, i), r.png);
      loneLatencies.push(r.ms);
    }
  }
  const single: Phase = { latencies: loneLatencies, seconds: (performance.now() - t) / 1000, health: await stopLone() };

  // Every client at once.
  const stopLoad = pollHealth();
  t = performance.now();
  let mismatches = 0;
  const loadLatencies: number[] = [];
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = 0; i < REQUESTS; i++) {
        const r = await generate(seedOf(c, i));
        loadLatencies.push(r.ms);
        if (!r.png.equals(lone.get(seedOf(c, i))!)) mismatches++;
      }
    }),
  );
  const load: Phase = { latencies: loadLatencies, seconds: (performance.now() - t) / 1000, health: await stopLoad() };

  const images = CLIENTS * REQUESTS * VARIATIONS;
  const row = (name: string, p: Phase) =>
    `${name.padEnd(22)} ${ms(quantile(p.latencies, 0.5)).padStart(8)} ${ms(quantile(p.latencies, 0.95)).padStart(8)} ${(images / p.seconds).toFixed(1).padStart(9)} ` +
    `${ms(quantile(p.health, 0.5)).padStart(8)} ${ms(quantile(p.health, 0.95)).padStart(8)} ${ms(Math.max(...p.health)).padStart(8)}`;
  console.log(`pack ${pack.name}, ${CLIENTS} clients x ${REQUESTS} requests x ${VARIATIONS} image(s), ${images} images per phase`);
  console.log(`${"".padEnd(22)} ${"p50".padStart(8)} ${"p95".padStart(8)} ${"images/s".padStart(9)} ${"health50".padStart(8)} ${"health95".padStart(8)} ${"healthmx".padStart(8)}`);
  console.log(row("1 client", single));
  console.log(row(`${CLIENTS} clients at once`, load));
  console.log(`images differing from the lone client's: ${mismatches} of ${images / VARIATIONS} requests`);
  const healthP95 = quantile(load.health, 0.95);
  const ok = mismatches === 0 && healthP95 <= HEALTH_P95_MS && server.alive();
  console.log(ok ? "bars met" : `BARS MISSED: mismatches ${mismatches}, /health p95 ${ms(healthP95)} (bar ${HEALTH_P95_MS} ms), server ${server.alive() ? "alive" : "dead"}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  await server.stop();
}
