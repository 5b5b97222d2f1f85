// Screenshots of the plugin UI for the docs, from the real built UI in headless Chromium against
// a real server on loopback (the canvas is the fake `figma` of the tests):
//   docs/ui-connected.png      connected, face drawn, palette
//   docs/ui-generating.png     generating 4 variations, with progress
//   docs/ui-result.png         result, layout thumbnail and history
//   docs/ui-error-shapes.png   a shape that is no face part, explained
//   docs/ui-edit-photo.png     "Edit this photo" done: the linked frame selected, identity line
//   docs/ui-sketch.png         the Sketch condition: pen strokes read as a line drawing
//   docs/ui-server-down.png    the server stopped: retrying, Generate disabled
// npm run screenshots
import { mkdir } from "node:fs/promises";
import type { Frame, Page } from "playwright-core";
import { startServer } from "../server/server.ts";
import { generate } from "../server/pipeline/generate.ts";
import { faceLayout } from "../test/server/helpers.ts";
import { silentLogger } from "../server/log.ts";
import { buildUiHtml, defaultServerUrl, readManifest } from "./build-plugin.mjs";
import { launchChromium } from "../test/ui/harness/chromium.ts";
import { openPlugin, startHarness } from "../test/ui/harness/serve.ts";

const OUT = "docs";

async function shot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(150); // let the last render and image decode settle
  const path = `${OUT}/${name}`;
  await page.locator("#plugin-ui").screenshot({ path });
  console.log(`wrote ${path}`);
}

async function generateAndWait(page: Page, ui: Frame): Promise<void> {
  const commits = await page.evaluate(() => (window as any).harness.commits());
  await ui.click("button.generate");
  await page.waitForFunction((n) => (window as any).harness.commits() > n, commits, { timeout: 60_000 });
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  await buildUiHtml({ serverUrl: defaultServerUrl(await readManifest()) }); // same default address as `npm run build`
  const server = await startServer({ port: 0, provider: "cpu", session: { intraOpNumThreads: 1 }, log: silentLogger });
  const harness = await startHarness();
  const browser = await launchChromium();
  try {
    const packs = server.engine.packInfos();
    const pack = packs.find((p) => p.name === server.engine.defaultPack) ?? packs[0];
    const colours = Object.fromEntries(pack.classes.map((c) => [c.name, c.color]));
    const settings = { serverUrl: server.wsUrl, token: server.secret, seed: 2024, variations: 4 };
    const { page, ui } = await openPlugin(browser, harness, settings, { width: 400, height: 740 });
    await ui.waitForSelector('.connection[data-status="open"]', { timeout: 20_000 });
    const face = await page.evaluate((c) => {
      const h = (window as any).harness;
      const f = h.drawFace(c, { name: "Face 1", width: 320, height: 320 });
      h.select([f.frameId]);
      return f;
    }, colours);
    await ui.waitForSelector(`.frame-line[data-frame-id="${face.frameId}"]`);
    await shot(page, "ui-connected.png");

    // Hold the server's answers, let the first few progress frames through, and catch the bar mid-way.
    await ui.evaluate(() => ((window as any).__ws.hold = true));
    await ui.click("button.generate");
    await ui.waitForFunction(() => (window as any).__ws.heldCount() >= 4, null, { timeout: 60_000 });
    await ui.evaluate(() => (window as any).__ws.release([], ["progress"], 3));
    await ui.waitForSelector(".progress");
    await shot(page, "ui-generating.png");
    await ui.evaluate(() => {
      const spy = (window as any).__ws;
      spy.hold = false;
      spy.release([]);
    });
    await page.waitForFunction(() => (window as any).harness.commits() > 0, null, { timeout: 60_000 });
    await ui.fill('input[aria-label="Variations"]', "1");
    await ui.press('input[aria-label="Variations"]', "Enter");
    await ui.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await generateAndWait(page, ui);
    await ui.waitForSelector('.notice[data-tone="success"]');
    await shot(page, "ui-result.png");

    await page.evaluate(
      ({ frameId }) => (window as any).harness.addShape(frameId, "Sticker", "#00FF00", 20, 20, 40, 40),
      { frameId: face.frameId },
    );
    await ui.click("button.generate");
    await ui.waitForSelector('.notice[data-tone="error"]');
    await shot(page, "ui-error-shapes.png");

    await ui.click(".notice .close");

    // Edit this photo: the pack's own result is the photo (a generated face placed on the page).
    const rt = server.engine.runtimes.get(pack.name)!;
    const face2 = await generate(rt, { mask: faceLayout(rt.pack.manifest.classes, pack.resolution), seed: 7, variations: 1 });
    const photo = await page.evaluate((png) => (window as any).harness.addPhoto(png, "Portrait", 0, 600, 256, 256), Buffer.from(face2.images[0].png).toString("base64"));
    await page.evaluate((id) => (window as any).harness.select([id]), photo);
    await page.waitForTimeout(200);
    await ui.click('button[data-action="edit"]');
    await ui.waitForSelector(".identity-line", { timeout: 60_000 });
    await ui.waitForSelector('.notice[data-tone="success"]');
    await shot(page, "ui-edit-photo.png");

    // Sketch: pen strokes in a fresh frame.
    await ui.click(".notice .close");
    const sketch = await page.evaluate(() => {
      const h = (window as any).harness;
      const f = h.drawFace({}, { name: "Sketch", x: 1200 });
      const lines: [string, number, number][] = [
        ["M 0 80 C 0 20 128 20 128 80 C 128 150 0 150 0 80 Z", 64, 48],
        ["M 0 0 L 24 0", 146, 112],
        ["M 0 0 L 24 0", 86, 112],
        ["M 0 0 L 6 30 L 0 34", 124, 122],
        ["M 0 0 C 16 8 32 8 48 0", 104, 168],
        ["M 0 60 C 10 0 150 0 160 60", 48, 20],
      ];
      for (const [d, x, y] of lines) h.addStroke(f.frameId, "Line", "#111111", d, x, y);
      h.select([f.frameId]);
      return f.frameId;
    });
    await ui.waitForSelector(`.frame-line[data-frame-id="${sketch}"]`);
    await ui.click('.condition-picker [data-kind="sketch"]');
    await generateAndWait(page, ui);
    await ui.waitForSelector('.notice[data-tone="success"]');
    await shot(page, "ui-sketch.png");
    await ui.click('.condition-picker [data-kind="mask"]');

    await server.close();
    await ui.waitForSelector('.connection[data-status="waiting"]', { timeout: 15_000 });
    await shot(page, "ui-server-down.png");
  } finally {
    await browser.close();
    await harness.close();
    await server.close().catch(() => {});
  }
}

await main();
