// The Path2D mask rasterizer in real Chromium: exact class ids, paint order, winding rules,
// transforms, and agreement with an analytic point-in-shape test away from edges.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { Affine } from "../../plugin/lib/transform.ts";
import { apply, invert } from "../../plugin/lib/transform.ts";
import type { MaskShape } from "../../ui/lib/rasterize.ts";
import { bundleForBrowser, chromiumAvailable, launchChromium } from "./harness/chromium.ts";

let browser: Browser;
let page: Page;

const I: Affine = [
  [1, 0, 0],
  [0, 1, 0],
];
const rect = (x: number, y: number, w: number, h: number) => `M ${x} ${y} L ${x + w} ${y} L ${x + w} ${y + h} L ${x} ${y + h} Z`;

async function raster(shapes: MaskShape[], resolution: number, background: number | null): Promise<{ mask: number[]; uncovered: number }> {
  return page.evaluate(
    ({ shapes, resolution, background }) => {
      const r = (globalThis as any).rasterizeMask(shapes, resolution, background);
      return { mask: Array.from(r.mask as Uint8Array), uncovered: r.uncovered as number };
    },
    { shapes, resolution, background },
  );
}

const count = (mask: number[], v: number) => mask.filter((m) => m === v).length;

describe.skipIf(!chromiumAvailable())("mask rasterizer (Chromium)", () => {
  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
    await page.addScriptTag({ content: await bundleForBrowser("test/ui/harness/rasterize-entry.ts") });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("fills exactly the covered pixels with the class, the rest with the background", async () => {
    const { mask, uncovered } = await raster([{ classId: 5, paths: [{ data: rect(0, 0, 0.5, 1), windingRule: "NONZERO" }], toUnit: I }], 8, 0);
    expect(uncovered).toBe(32);
    for (let y = 0; y < 8; y++) expect(mask.slice(y * 8, y * 8 + 8)).toEqual([5, 5, 5, 5, 0, 0, 0, 0]);
  });

  it("paints later shapes over earlier ones", async () => {
    const { mask } = await raster(
      [
        { classId: 1, paths: [{ data: rect(0, 0, 1, 1), windingRule: "NONZERO" }], toUnit: I },
        { classId: 2, paths: [{ data: rect(0.25, 0.25, 0.5, 0.5), windingRule: "NONZERO" }], toUnit: I },
        { classId: 1, paths: [{ data: rect(0.5, 0.5, 0.25, 0.25), windingRule: "NONZERO" }], toUnit: I },
      ],
      8,
      0,
    );
    expect(count(mask, 2)).toBe(16 - 4);
    expect(count(mask, 1)).toBe(64 - 12);
    expect(mask[5 * 8 + 5]).toBe(1);
    expect(mask[2 * 8 + 2]).toBe(2);
  });

  it("honours the winding rule (a ring has a hole only with EVENODD)", async () => {
    const ring = `${rect(0, 0, 1, 1)} ${rect(0.25, 0.25, 0.5, 0.5)}`;
    const evenodd = await raster([{ classId: 3, paths: [{ data: ring, windingRule: "EVENODD" }], toUnit: I }], 8, 0);
    const nonzero = await raster([{ classId: 3, paths: [{ data: ring, windingRule: "NONZERO" }], toUnit: I }], 8, 0);
    expect(count(evenodd.mask, 3)).toBe(64 - 16);
    expect(count(nonzero.mask, 3)).toBe(64);
  });

  it("never blends classes: antialiased edges still give only class ids", async () => {
    const circle = "M 1 0.5 A 0.5 0.5 0 1 1 0 0.5 A 0.5 0.5 0 1 1 1 0.5 Z";
    const { mask } = await raster(
      [
        { classId: 7, paths: [{ data: circle, windingRule: "NONZERO" }], toUnit: I },
        { classId: 9, paths: [{ data: rect(0.1, 0.45, 0.8, 0.1), windingRule: "NONZERO" }], toUnit: I },
      ],
      32,
      0,
    );
    expect(new Set(mask)).toEqual(new Set([0, 7, 9]));
    // Area of the circle ≈ π/4 of the square, within the edge pixels.
    const area = count(mask, 7) + count(mask, 9);
    expect(Math.abs(area - (Math.PI / 4) * 1024)).toBeLessThan(32);
  });

  it("leaves uncovered pixels marked when the pack has no background class", async () => {
    const out = await raster([{ classId: 4, paths: [{ data: rect(0, 0, 1, 0.5), windingRule: "NONZERO" }], toUnit: I }], 4, null);
    expect(out.uncovered).toBe(8);
    expect(count(out.mask, await page.evaluate(() => (globalThis as any).UNCOVERED))).toBe(8);
  });

  it("agrees with an analytic test of pixel centres for rotated, overlapping shapes", async () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const N = 64;
    const shapes: (MaskShape & { w: number; h: number })[] = [];
    for (let i = 0; i < 30; i++) {
      const w = 20 + rand() * 120;
      const h = 20 + rand() * 120;
      const a = rand() * Math.PI * 2;
      const s = 1 / 256; // shapes drawn in a 256-px frame
      const toUnit: Affine = [
        [Math.cos(a) * s, -Math.sin(a) * s, rand()],
        [Math.sin(a) * s, Math.cos(a) * s, rand()],
      ];
      shapes.push({ classId: 1 + Math.floor(rand() * 5), paths: [{ data: rect(0, 0, w, h), windingRule: "NONZERO" }], toUnit, w, h });
    }
    const { mask } = await raster(
      shapes.map(({ classId, paths, toUnit }) => ({ classId, paths, toUnit })),
      N,
      0,
    );
    let mismatches = 0;
    let nearEdge = 0;
    for (let py = 0; py < N; py++) {
      for (let px = 0; px < N; px++) {
        const u = (px + 0.5) / N;
        const v = (py + 0.5) / N;
        let expected = 0;
        let edgeDistance = Infinity;
        for (const s of shapes) {
          const [lx, ly] = apply(invert(s.toUnit), u, v);
          const inside = lx >= 0 && lx <= s.w && ly >= 0 && ly <= s.h;
          if (inside) expected = s.classId;
          // Distance to the outline in output pixels (local units are 1/256 of the unit square).
          const d = inside ? Math.min(lx, s.w - lx, ly, s.h - ly) : Math.hypot(Math.max(0, -lx, lx - s.w), Math.max(0, -ly, ly - s.h));
          edgeDistance = Math.min(edgeDistance, (d / 256) * N);
        }
        if (mask[py * N + px] !== expected) {
          if (edgeDistance < 0.75) nearEdge++;
          else mismatches++;
        }
      }
    }
    expect(mismatches).toBe(0);
    expect(nearEdge).toBeLessThan(N * N * 0.05);
  });

  describe("strokes (sketch, scribble)", () => {
    type S = { value: number; paths: { data: string }[]; toUnit: Affine };
    const strokes = (list: S[], resolution: number, width: number, empty: number): Promise<number[]> =>
      page.evaluate(({ list, resolution, width, empty }) => Array.from((globalThis as any).rasterizeStrokes(list, resolution, width, empty).map as Uint8Array), { list, resolution, width, empty });

    it("draws a line 1-2 px wide at any position, whatever the shape's scale", async () => {
      const R = 32;
      for (const y of [0.5, 0.51, 0.515, 0.53]) {
        const direct = await strokes([{ value: 1, paths: [{ data: `M 0.1 ${y} L 0.9 ${y}` }], toUnit: I }], R, 1.5, 0);
        // The same line in a 256-unit shape scaled down to the unit square.
        const scaled = await strokes([{ value: 1, paths: [{ data: `M 25.6 ${y * 256} L 230.4 ${y * 256}` }], toUnit: [[1 / 256, 0, 0], [0, 1 / 256, 0]] }], R, 1.5, 0);
        expect(scaled).toEqual(direct);
        for (let x = 5; x < 27; x++) {
          const column = Array.from({ length: R }, (_, r) => direct[r * R + x]);
          const ink = column.filter((v) => v === 1).length;
          expect(ink, `y=${y} x=${x}`).toBeGreaterThanOrEqual(1);
          expect(ink, `y=${y} x=${x}`).toBeLessThanOrEqual(2);
        }
        expect(count(direct, 1)).toBeLessThan(2 * 28);
      }
    });

    it("paints strokes in order with their value, and `empty` where nothing is drawn", async () => {
      const map = await strokes(
        [
          { value: 13, paths: [{ data: "M 0.1 0.5 L 0.9 0.5" }], toUnit: I },
          { value: 1, paths: [{ data: "M 0.5 0.1 L 0.5 0.9" }], toUnit: I },
        ],
        16,
        2,
        255,
      );
      expect(new Set(map)).toEqual(new Set([255, 13, 1]));
      expect(map[8 * 16 + 8]).toBe(1); // the crossing: the later stroke wins
      expect(count(map, 255)).toBeGreaterThan(256 - 2 * 2 * 14 - 4);
    });

    it("widens lines with the resolution as training did (1-2 px per 64)", async () => {
      const w = await page.evaluate(() => [32, 64, 128, 256].map((r) => [(globalThis as any).strokeWidth("sketch", r), (globalThis as any).strokeWidth("scribble", r)]));
      expect(w).toEqual([
        [1.5, 1.5],
        [1.5, 2],
        [3, 4],
        [6, 8],
      ]);
    });
  });
});
