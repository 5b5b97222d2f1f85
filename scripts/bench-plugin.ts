// Plugin-side cost of one generation, without the server: for a frame of 50 shapes,
// (1) main thread: read shapes → snapshot → postMessage copy (fake figma, Node),
// (2) UI: classify → rasterize the mask (Chromium canvas) → generate message JSON,
// (3) UI: PNG base64 → bytes, then main thread: bytes → image layer(s) + commitUndo (fake figma).
// Prints medians and p95 over many runs; no assertions. Goal: ≤ 100 ms on top of server time.
//   npx tsx scripts/bench-plugin.ts [--runs 200] [--resolutions 32,64,256]
import { encode } from "fast-png";
import { readFileSync } from "node:fs";
import type { PackInfo } from "../protocol/index.ts";
import { bytesToBase64 } from "../protocol/index.ts";
import type { FrameSnapshot } from "../plugin/messages.ts";
import { readFrame } from "../plugin/read-shapes.ts";
import { insertResults } from "../plugin/insert-results.ts";
import { createFakeFigma, type FakeFigma, type FakeNode } from "../test/plugin/fake-figma.ts";
import { drawFace, frame, shape } from "../test/plugin/scene.ts";
import { bundleForBrowser, chromiumAvailable, launchChromium } from "../test/ui/harness/chromium.ts";
import { openPlugin, startHarness } from "../test/ui/harness/serve.ts";
import { buildUiHtml, defaultServerUrl, readManifest } from "./build-plugin.mjs";
import { startServer } from "../server/server.ts";
import { silentLogger } from "../server/log.ts";
import type { Browser } from "playwright-core";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const RUNS = Number(arg("runs", "200"));
const E2E_RUNS = Number(arg("e2e-runs", "12"));
const RESOLUTIONS = arg("resolutions", "32,64,256").split(",").map(Number);
const SHAPES = 50;

const raw = JSON.parse(readFileSync("models/packs/faces-64/pack.json", "utf8"));
const basePack: PackInfo = {
  name: raw.name,
  title: raw.title,
  version: raw.version,
  quality: raw.quality,
  license: raw.license.name,
  resolution: raw.resolution,
  conditions: ["mask"],
  classes: raw.classes,
  truncation: raw.truncation,
};
const colours = Object.fromEntries(basePack.classes.map((c) => [c.name, c.color]));

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(2)} ms, p95 ${q(0.95).toFixed(2)} ms`;
}

function time(fn: () => void, runs = RUNS): number[] {
  for (let i = 0; i < Math.min(20, runs); i++) fn(); // warm up
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out;
}

function sceneWith50Shapes(figma: FakeFigma): FakeNode {
  const f = frame(figma, "Face", 0, 0, 512, 512);
  const face = drawFace(figma, f, colours);
  const parts = basePack.classes.map((c) => c.color);
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = face.length; i < SHAPES; i++) {
    const s = shape(figma, f, i % 2 ? "ELLIPSE" : "RECTANGLE", `part ${i}`, parts[i % parts.length], rand() * 400, rand() * 400, 10 + rand() * 100, 10 + rand() * 100);
    s.rotation = rand() * 90;
  }
  return f;
}

function png(size: number): Uint8Array {
  const data = new Uint8Array(size * size * 3);
  let x = 2463534242;
  for (let i = 0; i < data.length; i++) {
    // xorshift32 noise: the worst case for PNG size
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 255;
  }
  return encode({ width: size, height: size, channels: 3, data });
}

async function main(): Promise<void> {
  const figma = createFakeFigma();
  (globalThis as unknown as { figma: unknown }).figma = figma;
  const f = sceneWith50Shapes(figma);

  let snapshot: FrameSnapshot | null = null;
  const read = time(() => {
    const r = readFrame(f as unknown as FrameNode);
    if (!r.ok) throw new Error(r.problem.message);
    snapshot = r.snapshot;
  });
  const snap = snapshot as unknown as FrameSnapshot;
  const copy = time(() => structuredClone({ type: "frame-read", token: 1, result: { ok: true, snapshot: snap } }));
  console.log(`frame of ${snap.shapes.length} shapes (${JSON.stringify(snap).length} bytes as JSON)`);
  console.log(`  main: read shapes → snapshot        ${stats(read)}`);
  console.log(`  main → UI: postMessage copy         ${stats(copy)}`);

  const rows: string[] = [];
  if (!chromiumAvailable()) {
    console.log("  UI steps skipped: no Chromium at /usr/bin/chromium (set CHROMIUM_PATH)");
  } else {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.addScriptTag({ content: await bundleForBrowser("test/ui/harness/bench-entry.ts") });
      for (const resolution of RESOLUTIONS) {
        const pack = { ...basePack, resolution };
        const ui = await page.evaluate(
          ({ snapshot, pack, runs }) => {
            const g = globalThis as unknown as { layoutToMessage(s: unknown, p: unknown): string };
            for (let i = 0; i < 10; i++) g.layoutToMessage(snapshot, pack);
            const out: number[] = [];
            let bytes = 0;
            for (let i = 0; i < runs; i++) {
              const t = performance.now();
              bytes = g.layoutToMessage(snapshot, pack).length;
              out.push(performance.now() - t);
            }
            return { out, bytes };
          },
          { snapshot: snap, pack, runs: RUNS },
        );
        const pngBytes = png(resolution);
        const b64 = bytesToBase64(pngBytes);
        const decode = await page.evaluate(
          ({ b64, runs }) => {
            const g = globalThis as unknown as { pngToInsert(s: string[]): number };
            const out: number[] = [];
            for (let i = 0; i < runs; i++) {
              const t = performance.now();
              g.pngToInsert([b64]);
              out.push(performance.now() - t);
            }
            return out;
          },
          { b64, runs: RUNS },
        );
        const insertOne = time(() => insertResults(f as unknown as FrameNode, [{ png: pngBytes, seed: 1 }], () => {}), Math.min(RUNS, 100));
        const insertFour = time(() => insertResults(f as unknown as FrameNode, [1, 2, 3, 4].map((seed) => ({ png: pngBytes, seed })), () => {}), Math.min(RUNS, 50));
        const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
        const total = median(read) + median(copy) + median(ui.out) + median(decode) + median(insertOne);
        rows.push(
          [
            `${resolution} px mask (message ${ui.bytes} bytes, PNG ${pngBytes.length} bytes):`,
            `  UI: classify + rasterize + message  ${stats(ui.out)}`,
            `  UI: PNG base64 → bytes              ${stats(decode)}`,
            `  main: PNG → 1 layer + commitUndo    ${stats(insertOne)}`,
            `  main: PNG → 4 layers + commitUndo   ${stats(insertFour)}`,
            `  plugin-side total, 1 image (medians) ${total.toFixed(2)} ms`,
          ].join("\n"),
        );
      }
      for (const r of rows) console.log(r);
      rows.length = 0;
      await endToEnd(browser);
    } finally {
      await browser.close();
    }
  }
  for (const r of rows) console.log(r);
  console.log(`(${RUNS} runs each; main-thread steps on the fake figma in Node: Figma's own API calls cost more than these property reads.)`);
}

/**
 * The whole flow in the real UI against a real server (the default pack): from the Generate click
 * to the layer's commitUndo, minus the server's part (generate sent → done received).
 */
async function endToEnd(browser: Browser): Promise<void> {
  await buildUiHtml({ serverUrl: defaultServerUrl(await readManifest()) }); // same default address as `npm run build`
  const server = await startServer({ port: 0, provider: "cpu", session: { intraOpNumThreads: 1 }, log: silentLogger });
  const harness = await startHarness();
  try {
    const packs = server.engine.packInfos();
    const pack = packs.find((p) => p.name === server.engine.defaultPack) ?? packs[0];
    const packColours = Object.fromEntries(pack.classes.map((c) => [c.name, c.color]));
    for (const variations of [1, 4]) {
      const { page, ui } = await openPlugin(browser, harness, { serverUrl: server.wsUrl, token: server.secret, seed: 99, seedLocked: true, variations });
      await ui.waitForSelector('.connection[data-status="open"]', { timeout: 20_000 });
      await page.evaluate(
        ({ colours, extra }) => {
          const h = (window as any).harness;
          const face = h.drawFace(colours, { width: 512, height: 512 });
          const list = Object.values(colours) as string[];
          for (let i = 0; i < extra; i++) h.addShape(face.frameId, `part ${i}`, list[i % list.length], (i * 37) % 400, (i * 53) % 400, 30 + (i % 5) * 20, 20 + (i % 7) * 15);
          h.select([face.frameId]);
        },
        { colours: packColours, extra: SHAPES - 9 },
      );
      await ui.waitForSelector(".frame-line[data-frame-id]");
      await ui.evaluate(() => {
        const w = window as any;
        w.__clicks = [];
        document.addEventListener("click", (e) => {
          if ((e.target as HTMLElement).closest("button.generate")) w.__clicks.push(performance.timeOrigin + performance.now());
        }, true);
      });
      const overhead: number[] = [];
      const serverPart: number[] = [];
      for (let i = 0; i < E2E_RUNS; i++) {
        const commits = await page.evaluate(() => (window as any).harness.commits());
        await ui.click("button.generate");
        await page.waitForFunction((n) => (window as any).harness.commits() > n, commits, { timeout: 30_000 });
        await ui.waitForFunction(() => !document.querySelector(".progress"));
        const t = await ui.evaluate(() => {
          const w = window as any;
          const sent: string[] = w.__ws.sent;
          let i = sent.length - 1;
          while (i >= 0 && JSON.parse(sent[i]).type !== "generate") i--;
          const id = JSON.parse(sent[i]).id;
          const done = w.__ws.received.find((r: any) => JSON.parse(r.data).type === "done" && JSON.parse(r.data).id === id);
          return { click: w.__clicks.at(-1), sent: w.__ws.sentAt[i], done: done.at };
        });
        const committed = await page.evaluate(() => (window as any).harness.lastCommitAt());
        serverPart.push(t.done - t.sent);
        overhead.push(committed - t.click - (t.done - t.sent));
      }
      console.log(`end to end, real UI + server (${pack.name}, ${pack.resolution} px, ${SHAPES} shapes, ${variations} image${variations > 1 ? "s" : ""}, ${E2E_RUNS} runs):`);
      console.log(`  server part (generate sent → done)  ${stats(serverPart)}`);
      console.log(`  plugin side (click → layer, minus server) ${stats(overhead)}`);
      await page.close();
    }
  } finally {
    await harness.close();
    await server.close();
  }
}

await main();
