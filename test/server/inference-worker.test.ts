// The server's networks run in a worker thread (server/inference-pool.ts). With the real pack:
// the images are the same as from sessions on the calling thread; a pack that does not open or a
// run that fails is said as an error, and a thread that died is replaced: the next request works;
// the server closes promptly during a generation.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { Piscina } from "piscina";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createInferencePool } from "../../server/inference-pool.ts";
import { silentLogger } from "../../server/log.ts";
import { generate } from "../../server/pipeline/generate.ts";
import { closePackRuntime, defaultSessionSettings, openPackRuntime } from "../../server/pipeline/runtime.ts";
import { startServer } from "../../server/server.ts";
import { authFetch, defaultTestPack, faceLayout, PACKS_DIR } from "./helpers.ts";

const pack = defaultTestPack();
const R = pack.manifest.resolution;
const layout = faceLayout(pack.manifest.classes, R);
const settings = defaultSessionSettings("cpu");

describe("the inference pool", async () => {
  const pool = await createInferencePool();
  afterAll(() => pool.close());

  it("makes byte-identical images to sessions on this thread", async () => {
    const here = await openPackRuntime(pack, settings);
    const there = await openPackRuntime(pack, settings, pool);
    try {
      const input = { mask: layout, seed: 7, variations: 3 };
      const [a, b] = [await generate(here, input), await generate(there, input)];
      expect(b.images.map((i) => Buffer.from(i.png).toString("base64"))).toEqual(a.images.map((i) => Buffer.from(i.png).toString("base64")));
    } finally {
      await closePackRuntime(here);
    }
  });

  it("refuses a pack whose files are not networks, naming the network, and keeps serving the others", async () => {
    const dir = mkdtempSync(join(tmpdir(), "phototype-broken-pack-"));
    for (const net of Object.values(pack.manifest.networks)) writeFileSync(join(dir, net.file), "not an ONNX file");
    await expect(openPackRuntime({ ...pack, name: "broken", dir }, settings, pool)).rejects.toThrow(/network mapping \(mapping\.onnx\) did not load/);
    const rt = await openPackRuntime(pack, settings, pool);
    await expect(generate(rt, { mask: layout, seed: 1, variations: 1 })).resolves.toMatchObject({ images: [{ seed: 1 }] });
  });

  it("says why a run failed (wrong input shape) and runs the next one", async () => {
    const rt = await openPackRuntime(pack, settings, pool);
    const wrong = new ort.Tensor("float32", new Float32Array(3), [1, 3]);
    await expect(rt.runner.run("mapping", { z: wrong, truncation: wrong })).rejects.toThrow(/dimension|shape|Got invalid/i);
    await expect(generate(rt, { mask: layout, seed: 2, variations: 1 })).resolves.toMatchObject({ images: [{ seed: 2 }] });
  });
});

describe("a server whose inference thread dies", () => {
  it("serves the next request the same images from a new thread, and closes promptly during a generation", async () => {
    const runs = vi.spyOn(Piscina.prototype, "run");
    const server = await startServer({ port: 0, packsDir: PACKS_DIR, defaultPack: pack.name, log: silentLogger, warmup: false, provider: "cpu" });
    let closed = false;
    try {
      const post = (seed: number) => authFetch(server, `/generate?seed=${seed}&variations=2`, { method: "POST", body: new Uint8Array(layout) });
      const lone = Buffer.from(await (await post(5)).arrayBuffer());
      const inference = runs.mock.contexts.find((p) => String((p as Piscina).options.filename).includes("inference-worker")) as Piscina;
      expect(inference).toBeDefined();

      // As if the thread had crashed between runs (terminating it inside a native run could abort
      // this process, which is why closing waits for the run instead).
      await inference.threads[0].terminate();
      const again = await post(5);
      expect(again.status).toBe(200);
      expect(Buffer.from(await again.arrayBuffer()).equals(lone)).toBe(true);

      const before = runs.mock.calls.length;
      const generating = post(7).catch(() => null);
      while (runs.mock.calls.length === before) await new Promise((r) => setTimeout(r, 1));
      const t = performance.now();
      await server.close();
      closed = true;
      expect(performance.now() - t).toBeLessThan(10_000);
      await generating;
    } finally {
      runs.mockRestore();
      if (!closed) await server.close();
    }
  });
});
