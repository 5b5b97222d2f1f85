// How often left/right by position (server/pipeline/sides.ts) disagrees with hand-drawn labels:
// on celebamask-mini's masks, the share of eye, brow and ear pixels (and of masks) whose class it
// would change, for the nose-first midline the server uses and for two alternatives.
//   npx tsx scripts/measure-sides.ts DATA_DIR [split ...]        (splits default to train test)
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decode } from "fast-png";
import { placeSides, type SideRules } from "../server/pipeline/sides.ts";
import { sidePairsOf } from "../server/pipeline/side-pairs.ts";
import { loadPackFolder } from "../server/pack/registry.ts";

const [dataDir, ...splits] = process.argv.slice(2);
if (!dataDir) throw new Error("usage: npx tsx scripts/measure-sides.ts DATA_DIR [split ...]");
const manifest = loadPackFolder(join(import.meta.dirname, "../models/packs/faces-128")).manifest;
const id = (name: string) => manifest.classes.find((c) => c.name === name)!.id;
const pairs = sidePairsOf(manifest);
const paired = new Set(pairs.flatMap((p) => [p.imageLeft, p.imageRight]));
const RULES: Record<string, SideRules> = {
  "nose, else skin (used)": { pairs, anchors: [new Set([id("nose")]), new Set([id("skin")])] },
  "skin only": { pairs, anchors: [new Set([id("skin")])] },
  "skin and nose together": { pairs, anchors: [new Set([id("skin"), id("nose")])] },
};

for (const split of splits.length ? splits : ["train", "test"]) {
  const folder = join(dataDir, split, "masks");
  const files = readdirSync(folder).filter((f) => f.endsWith(".png")).sort();
  const totals = Object.fromEntries(Object.keys(RULES).map((k) => [k, { pixels: 0, masks: 0 }]));
  let pairedPixels = 0;
  for (const f of files) {
    const png = decode(readFileSync(join(folder, f)));
    const map = Uint8Array.from(png.data as Uint8Array);
    for (const v of map) if (paired.has(v)) pairedPixels++;
    for (const [name, rules] of Object.entries(RULES)) {
      const out = placeSides(map, png.width, rules);
      let changed = 0;
      for (let i = 0; i < map.length; i++) if (out[i] !== map[i]) changed++;
      totals[name].pixels += changed;
      if (changed) totals[name].masks++;
    }
  }
  console.log(`${split}: ${files.length} masks, ${pairedPixels} eye/brow/ear pixels`);
  for (const [name, t] of Object.entries(totals)) {
    console.log(`  ${name}: ${((100 * t.pixels) / pairedPixels).toFixed(2)} % of those pixels change side, in ${t.masks} masks`);
  }
}
