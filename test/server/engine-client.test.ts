// The engine client's own parts, no engine needed: the tensor wire format, the Serve config
// `phototype engine` writes from pack.json, and the client's retry / timeout / abort rules against
// a scripted HTTP peer on loopback. The real engine is in engine.test.ts.
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineClient } from "../../server/engine-client/client.ts";
import { serveConfig } from "../../server/engine-client/serve-config.ts";
import { decodeTensors, encodeTensors, WireError } from "../../server/engine-client/wire.ts";
import { JobFailure } from "../../server/failure.ts";
import { GenerationAborted, withJobSignal } from "../../server/pipeline/hooks.ts";
import { defaultTestPack, PACKS_DIR } from "./helpers.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const pack = defaultTestPack();

describe("tensor wire format", () => {
  it("round-trips float32 and int64 tensors, views included, with 8-byte aligned data", () => {
    const big = new Float32Array(24).map((_, i) => i / 3 - 2);
    const ids = new BigInt64Array([5n, -1n, 2n ** 40n, 0n, 7n, 19n]);
    const tensors = {
      features: new ort.Tensor("float32", big.subarray(3, 15), [2, 2, 3]),
      proxy_src: new ort.Tensor("int64", ids.subarray(1, 5), [1, 2, 2]),
      empty: new ort.Tensor("float32", new Float32Array(0), [0, 4]),
    };
    const body = encodeTensors(tensors);
    expect(Buffer.from(body.subarray(0, 4)).toString()).toBe("PTT1");
    const headerLength = new DataView(body.buffer).getUint32(4, true);
    expect((8 + headerLength) % 8).toBe(0);
    const back = decodeTensors(body);
    expect(Object.keys(back)).toEqual(Object.keys(tensors));
    for (const [k, t] of Object.entries(tensors)) {
      expect(back[k].type).toBe(t.type);
      expect(back[k].dims).toEqual(t.dims);
      expect([...(back[k].data as Float32Array)]).toEqual([...(t.data as Float32Array)]);
    }
    // A body that does not start on an 8-byte boundary is copied, not misread.
    const shifted = new Uint8Array(body.length + 3);
    shifted.set(body, 3);
    expect([...(decodeTensors(shifted.subarray(3)).proxy_src.data as BigInt64Array)]).toEqual([...ids.subarray(1, 5)]);
  });

  it("refuses bodies that are not tensors, with a sentence", () => {
    const good = encodeTensors({ x: new ort.Tensor("float32", new Float32Array(4), [4]) });
    expect(() => decodeTensors(new TextEncoder().encode("<html>Internal Server Error</html>"))).toThrow(WireError);
    expect(() => decodeTensors(good.subarray(0, good.length - 8))).toThrow(/runs past the end/);
    expect(() => encodeTensors({ x: new ort.Tensor("int32", new Int32Array(2), [2]) })).toThrow(/float32 and int64/);
  });
});

describe("phototype engine: the Serve config from pack.json", () => {
  const base = {
    packs: [pack],
    root: ROOT,
    host: "127.0.0.1",
    port: 8000,
    routePrefix: "/",
    replicas: 2,
    cpusPerReplica: 1,
    gpusPerReplica: 0,
    provider: "auto" as const,
    maxBatchSize: 8,
    batchWaitMs: 2,
    maxRows: 64,
  };

  it("one application per pack, its folder and the engine code where the engine machines have them", () => {
    const text = serveConfig({ ...base, engineRoot: "/srv/phototype" });
    expect(text).toContain(`route_prefix: "/${pack.name}"`);
    expect(text).toContain(`import_path: "app:build"`);
    expect(text).toContain(`working_dir: "local:///srv/phototype/engine"`);
    expect(text).toContain(`pack_dir: "/srv/phototype/models/packs/${pack.name}"`);
    expect(text).toContain("num_replicas: 2");
    expect(text).toContain("max_ongoing_requests: 32");
    expect(text).not.toContain("token");
    expect(text).not.toContain("test_delay_ms");
  });

  it("autoscaling, GPUs, a route prefix, several groups in one config", () => {
    const text = serveConfig([
      { ...base, replicas: { min: 1, max: 6 }, gpusPerReplica: 0.5, threads: 4 },
      { ...base, routePrefix: "/slow/", testDelayMs: 300, token: "s3cret" },
    ]);
    expect(text).toMatch(/autoscaling_config:\n\s+min_replicas: 1\n\s+max_replicas: 6\n\s+target_ongoing_requests: 8/);
    expect(text).toContain("num_gpus: 0.5");
    expect(text).toContain("threads: 4");
    expect(text).toContain(`name: "slow-${pack.name}"`);
    expect(text).toContain(`route_prefix: "/slow/${pack.name}"`);
    expect(text).toContain("test_delay_ms: 300");
    expect(text).toContain(`token: "s3cret"`);
    expect(text.match(/^http_options:/gm)).toHaveLength(1);
  });

  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(process.execPath, ["--import", "tsx", join(ROOT, "server/cli.ts"), ...args], { cwd: ROOT, env: { ...process.env, PHOTOTYPE_PACKS: PACKS_DIR }, timeout: 60_000 }, (e, stdout, stderr) =>
        done({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, stdout, stderr }),
      ),
    );

  it("the command writes it; bad options are one line and exit 2", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "phototype-engine-")), "engine.yaml");
    const ok = await cli("engine", "--autoscale", "1-4", "--cpus-per-replica", "2", "--out", out);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain("serve run");
    const text = readFileSync(out, "utf8");
    expect(text).toContain("max_replicas: 4");
    expect(text).toContain("threads: 2");
    expect(text).toContain(`pack_dir: "${join(PACKS_DIR, pack.name)}"`);
    const stdout = await cli("engine");
    expect(stdout.stdout).toContain("num_replicas: 1");
    for (const args of [["engine", "--autoscale", "4-1"], ["engine", "--pack", "nope"], ["engine", "--cpus-per-replica", "x"], ["serve", "--engine", "localhost:8000"]]) {
      const r = await cli(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("engine client: retry once, time out, follow the job", () => {
  let peer: Server;
  let url: string;
  /** What the peer does with the next requests, in order; "ok" once they run out. */
  let script: ("drop" | "500" | "404" | "409" | "slow" | "ok")[] = [];
  let seen = 0;
  const reply = encodeTensors({ y: new ort.Tensor("float32", new Float32Array([1, 2]), [2]) });

  beforeAll(async () => {
    peer = createServer((req, res) => {
      seen++;
      const step = script.shift() ?? "ok";
      req.resume();
      req.on("end", () => {
        if (step === "drop") return req.socket.destroy();
        if (step === "slow") return void setTimeout(() => res.end(Buffer.from(reply)), 2_000);
        if (step !== "ok") return res.writeHead(Number(step)).end("no");
        res.writeHead(200, { "x-phototype-batch": "4" }).end(Buffer.from(reply));
      });
    });
    await new Promise<void>((ok) => peer.listen(0, "127.0.0.1", ok));
    url = `http://127.0.0.1:${(peer.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((ok) => (peer.closeAllConnections(), peer.close(() => ok()))));

  const client = (timeoutMs = 1_000) => new EngineClient({ url, timeoutMs, retryDelayMs: 10 });
  const call = (c: EngineClient) => c.run("p", "g1", "abc", encodeTensors({ x: new ort.Tensor("float32", new Float32Array(1), [1]) }));
  const failure = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

  it("retries a dropped connection or a 5xx once, then says engine_unavailable", async () => {
    const c = client();
    script = ["drop"];
    seen = 0;
    expect(decodeTensors(await call(c)).y.dims).toEqual([2]);
    expect(seen).toBe(2);
    script = ["500"];
    await call(c);
    expect(c.counts.calls).toBe(2);
    expect(c.counts.runs).toBeCloseTo(0.5);
    script = ["500", "drop"];
    seen = 0;
    const e = await failure(call(c));
    expect(e).toBeInstanceOf(JobFailure);
    expect((e as JobFailure).code).toBe("engine_unavailable");
    expect(seen).toBe(2);
  });

  it("does not retry what a retry cannot fix: another pack version, a missing pack, a slow answer", async () => {
    for (const [step, code, text] of [["409", "engine_unavailable", /another version/], ["404", "engine_unavailable", /does not serve pack p/], ["slow", "engine_timeout", /longer than 0.2 s/]] as const) {
      script = [step];
      seen = 0;
      const e = (await failure(call(client(200)))) as JobFailure;
      expect(e.code).toBe(code);
      expect(e.message).toMatch(text);
      expect(seen).toBe(1);
    }
  });

  it("stops waiting when its job is cancelled or times out", async () => {
    script = ["slow"];
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const t0 = Date.now();
    const e = await failure(withJobSignal(controller.signal, () => call(client(5_000))));
    expect(e).toBeInstanceOf(GenerationAborted);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });
});
