// One PNG grid per feature into docs/features/, made with the in-process pipeline on the default
// pack (or --pack NAME): `npm run grids`. Inputs are synthetic drawings rendered here and the
// pack's own generated faces used as "photos" (never the dataset's test split), so the grids can
// be remade for any pack. What each row and column shows is printed
// and written to docs/features/README.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { decode } from "fast-png";
import { chooseDefaultPack, loadPacks } from "../server/pack/registry.ts";
import type { PackClass } from "../server/pack/schema.ts";
import { edgesFromRgb } from "../server/pipeline/canny.ts";
import { rasterizePolygons, traceClassMap } from "../server/pipeline/contours.ts";
import { generate } from "../server/pipeline/generate.ts";
import type { ConditionInput } from "../server/pipeline/request.ts";
import { encodeRgbaPng } from "../server/pipeline/image.ts";
import { invertPhoto } from "../server/pipeline/invert.ts";
import { hexToRgb } from "../server/pipeline/mask.ts";
import type { RgbImage } from "../server/pipeline/photo.ts";
import { closePackRuntime, defaultSessionSettings, openPackRuntime, type PackRuntime } from "../server/pipeline/runtime.ts";
import { NO_STROKE } from "../protocol/index.ts";
import { faceLayout, type FacePose } from "../test/server/helpers.ts";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const PACKS = resolve(flag("--packs") ?? "models/packs");
const OUT = resolve(flag("--out") ?? "docs/features");
const SEEDS = [11, 22, 33, 44];
const CELL = 128;
const GAP = 4;

// ------------------------------------------------------------------ layouts and drawings

const POSES: FacePose[] = [
  { cx: 0.5, cy: 0.5, s: 1, hair: 1 },
  { cx: 0.44, cy: 0.55, s: 0.8, hair: 1.2 },
  { cx: 0.56, cy: 0.47, s: 1.15, hair: 0.85 },
];

/** Outlines of face parts, one pixel wide, grouped as a designer draws them (conditions.py SKETCH_GROUPS). */
function sketchOf(classes: readonly PackClass[], map: Uint8Array, size: number): Uint8Array {
  const groups = [["skin", "nose", "l_eye", "r_eye", "l_brow", "r_brow", "mouth", "u_lip", "l_lip"], ["hair"], ["neck"], ["cloth"], ["l_eye"], ["r_eye"], ["l_brow"], ["r_brow"], ["nose"], ["u_lip", "l_lip", "mouth"]];
  const out = new Uint8Array(size * size);
  for (const names of groups) {
    const ids = new Set(classes.filter((c) => names.includes(c.name)).map((c) => c.id));
    const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < size && y < size && ids.has(map[y * size + x]);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        if (inside(x, y) && (!inside(x - 1, y) || !inside(x + 1, y) || !inside(x, y - 1) || !inside(x, y + 1))) out[y * size + x] = 1;
      }
    }
  }
  return out;
}

/** Two short strokes per part (a horizontal through its middle, a diagonal), kept inside it. */
function scribbleOf(map: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size * size).fill(NO_STROKE);
  for (const c of new Set(map)) {
    const pix: number[] = [];
    map.forEach((v, i) => v === c && pix.push(i));
    if (pix.length < 3) continue;
    const ys = pix.map((i) => Math.floor(i / size)).sort((a, b) => a - b);
    const row = ys[Math.floor(ys.length / 2)];
    const xs = pix.filter((i) => Math.floor(i / size) === row).map((i) => i % size);
    const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    for (let x = x0 + Math.floor((x1 - x0) / 5); x <= x1 - Math.floor((x1 - x0) / 5); x++) out[row * size + x] = c;
    const mx = Math.round((x0 + x1) / 2);
    for (let k = -3; k <= 3; k++) {
      const x = mx + k, y = row + k - 2;
      if (x >= 0 && y >= 0 && x < size && y < size && map[y * size + x] === c) out[y * size + x] = c;
    }
  }
  return out;
}

// ------------------------------------------------------------------ pictures

type Rgba = { width: number; height: number; data: Uint8Array };

function fromPng(png: Uint8Array): Rgba {
  const img = decode(png);
  return { width: img.width, height: img.height, data: img.data as Uint8Array };
}

function rgbOfPng(png: Uint8Array): RgbImage {
  const { width, height, data } = fromPng(png);
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) rgb.set(data.subarray(p * 4, p * 4 + 3), p * 3);
  return { width, height, rgb };
}

function fromRgb(img: RgbImage): Rgba {
  const data = new Uint8Array(img.width * img.height * 4);
  for (let p = 0; p < img.width * img.height; p++) data.set([img.rgb[p * 3], img.rgb[p * 3 + 1], img.rgb[p * 3 + 2], 255], p * 4);
  return { width: img.width, height: img.height, data };
}

/** A one-byte map as colours: class palette, black/white strokes, or class strokes on white. */
function mapPicture(map: Uint8Array, size: number, colour: (v: number) => [number, number, number]): Rgba {
  const data = new Uint8Array(size * size * 4);
  map.forEach((v, p) => data.set([...colour(v), 255], p * 4));
  return { width: size, height: size, data };
}

function paletteColour(classes: readonly PackClass[]): (v: number) => [number, number, number] {
  const byId = new Map(classes.map((c) => [c.id, hexToRgb(c.color)]));
  return (v) => (v === NO_STROKE ? [255, 255, 255] : (byId.get(v) ?? [255, 0, 255]));
}
const inkColour = (v: number): [number, number, number] => (v ? [0, 0, 0] : [255, 255, 255]);

/** Rows of equal-sized cells, each picture scaled to CELL px (nearest neighbour: pixels stay visible). */
function grid(rows: Rgba[][]): Uint8Array {
  const cols = Math.max(...rows.map((r) => r.length));
  const W = cols * CELL + (cols + 1) * GAP;
  const H = rows.length * CELL + (rows.length + 1) * GAP;
  const out = new Uint8Array(W * H * 4).fill(255);
  rows.forEach((row, r) =>
    row.forEach((pic, c) => {
      const ox = GAP + c * (CELL + GAP), oy = GAP + r * (CELL + GAP);
      for (let y = 0; y < CELL; y++) {
        const sy = Math.floor((y * pic.height) / CELL);
        for (let x = 0; x < CELL; x++) {
          const sx = Math.floor((x * pic.width) / CELL);
          out.set(pic.data.subarray((sy * pic.width + sx) * 4, (sy * pic.width + sx) * 4 + 4), ((oy + y) * W + ox + x) * 4);
        }
      }
    }),
  );
  return encodeRgbaPng(out, W, H);
}

// ------------------------------------------------------------------ the grids

async function images(rt: PackRuntime, condition: ConditionInput, seeds: number[], extra: { source?: { photo: RgbImage }; restyle?: { classes: number[]; seed: number } } = {}): Promise<Rgba[]> {
  const out: Rgba[] = [];
  if (extra.restyle) {
    const r = await generate(rt, { condition, seed: seeds[0], variations: seeds.length, ...extra, restyle: { ...extra.restyle, seed: seeds[0] } });
    return r.images.map((i) => fromPng(i.png));
  }
  for (const seed of seeds) {
    const r = await generate(rt, { condition, seed, variations: 1, ...extra });
    out.push(fromPng(r.images[0].png));
  }
  return out;
}

async function main(): Promise<void> {
  const registry = loadPacks(PACKS, { log: (l) => console.error(l) });
  const name = flag("--pack") ?? chooseDefaultPack(registry.packs.keys(), process.env.PHOTOTYPE_DEFAULT_PACK).name;
  const pack = name ? registry.packs.get(name) : undefined;
  if (!pack) throw new Error(`no pack ${name ?? ""} under ${PACKS}`);
  const rt = await openPackRuntime(pack, { ...defaultSessionSettings("cpu"), intraOpNumThreads: 1 });
  const m = pack.manifest;
  const R = m.resolution;
  const classes = m.classes;
  const kinds = new Set(m.conditions.map((c) => c.kind));
  const hair = classes.find((c) => c.name === "hair")?.id;
  mkdirSync(OUT, { recursive: true });
  const layouts = POSES.map((p) => faceLayout(classes, R, p));
  // The pack's own faces as "photos": one per layout, a seed each.
  const photos: RgbImage[] = [];
  for (let i = 0; i < layouts.length; i++) photos.push(rgbOfPng((await generate(rt, { mask: layouts[i], seed: 500 + i, variations: 1 })).images[0].png));
  const written: { file: string; what: string }[] = [];
  const save = (file: string, rows: Rgba[][], what: string) => {
    writeFileSync(join(OUT, file), grid(rows));
    written.push({ file, what });
    console.log(`${join(OUT, file)}: ${what}`);
  };
  const seedList = SEEDS.join(", ");

  if (kinds.has("sketch")) {
    const rows: Rgba[][] = [];
    for (const l of layouts) {
      const sketch = sketchOf(classes, l, R);
      rows.push([mapPicture(sketch, R, inkColour), ...(await images(rt, { kind: "sketch", data: sketch }, SEEDS))]);
    }
    save("sketch.png", rows, `sketch -> photos: each row a synthetic pen sketch (part outlines, 1 px at ${R} px), then seeds ${seedList}`);
  }
  if (kinds.has("scribble")) {
    const rows: Rgba[][] = [];
    for (const l of layouts) {
      const scribble = scribbleOf(l, R);
      rows.push([mapPicture(scribble, R, paletteColour(classes)), ...(await images(rt, { kind: "scribble", data: scribble }, SEEDS))]);
    }
    save("scribble.png", rows, `scribble -> photos: each row a few strokes per part in its class colour, then seeds ${seedList}`);
  }
  if (kinds.has("edges")) {
    const rows: Rgba[][] = [];
    for (const photo of photos) {
      const edges = edgesFromRgb(photo.rgb, R, R);
      rows.push([fromRgb(photo), mapPicture(edges, R, inkColour), ...(await images(rt, { kind: "edges", photo }, SEEDS))]);
    }
    save("edges.png", rows, `edges -> photos: a photo (the pack's own generated face), its Canny edge map (computed by the server), then seeds ${seedList}`);
  }
  if (m.networks.encoder) {
    const rows: Rgba[][] = [];
    for (const photo of photos) rows.push([fromRgb(photo), ...(await images(rt, { kind: "exemplar", photo }, SEEDS))]);
    save("exemplar.png", rows, `exemplar -> new seeds: a photo, then seeds ${seedList} laid out like it (encoder -> proxy mask)`);
  }
  if (m.networks.encoder && m.networks.parser && hair !== undefined) {
    const rows: Rgba[][] = [];
    const colour = paletteColour(classes);
    const bg = classes.find((c) => c.name === "background")?.id ?? classes[0].id;
    for (const photo of photos) {
      const inverted = await invertPhoto(rt, photo).catch((e: Error) => {
        console.warn(`edit: ${e.message}`);
        return null;
      });
      if (!inverted) continue;
      // The edit a designer might make on the shapes: the hair polygons 20 % larger about their centre.
      const edited = inverted.polygons.map((p) => {
        if (p.classId !== hair) return p;
        const n = p.points.length / 2;
        let cx = 0, cy = 0;
        for (let i = 0; i < n; i++) (cx += p.points[2 * i] / n), (cy += p.points[2 * i + 1] / n);
        return { ...p, points: p.points.map((v, i) => (i % 2 === 0 ? cx + (v - cx) * 1.2 : cy + (v - cy) * 1.2)) };
      });
      const editedMap = rasterizePolygons(edited, R, R, bg);
      const [result] = await images(rt, { kind: "mask", data: editedMap }, [0], { source: { photo } });
      rows.push([fromRgb(photo), mapPicture(inverted.classMap, R, colour), mapPicture(editedMap, R, colour), result]);
    }
    save("edit.png", rows, "edit: a photo | its layout (parser) | the layout edited as shapes (hair 20 % larger) | the result with the photo's identity");
  }
  if (hair !== undefined) {
    const rows: Rgba[][] = [];
    for (const [i, l] of layouts.entries()) {
      const seed = 60 + i;
      const original = fromPng((await generate(rt, { mask: l, seed, variations: 1 })).images[0].png);
      const restyled = await generate(rt, { condition: { kind: "mask", data: l }, seed, variations: 3, restyle: { classes: [hair], seed: 900 + 10 * i } });
      rows.push([original, ...restyled.images.map((im) => fromPng(im.png))]);
    }
    save("restyle.png", rows, "restyle: the original (seed 60-62) | its hair from 3 other seeds, the rest kept");
  }
  const traced = traceClassMap(layouts[0], R, R, { skip: [classes[0].id] });
  const md = [
    "# Feature grids",
    "",
    `Made by \`npm run grids\` (scripts/feature-grids.ts) with pack \`${pack.name}\` (${m.title}, ${R} px), ${new Date().toISOString().slice(0, 10)}. Cells are ${R} px images shown at ${CELL} px (nearest neighbour). Inputs are synthetic drawings and the pack's own generated faces used as photos; never the dataset's test split.`,
    "",
    ...written.map((w) => `- **${w.file}**: ${w.what}.\n\n  ![${w.file}](${w.file})\n`),
    `Synthetic layout 1 traces to ${traced.polygons.length} polygons (what "Edit this photo" would make of it).`,
    "",
  ].join("\n");
  writeFileSync(join(OUT, "README.md"), md);
  await closePackRuntime(rt);
}

main().catch((e) => {
  console.error(`grids: ${(e as Error).message}`);
  process.exit(1);
});
