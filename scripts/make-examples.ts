// npx tsx scripts/make-examples.ts [DATA_DIR]   (default ../shared/data/celebamask-mini)
//
// The example masks under examples/, for the README's commands: two masks of the data's train
// split (never test/, which is held out for evaluation) at the default pack's resolution, as
// class-id PNGs, and the first of them again in the pack's palette colours.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { encode } from "fast-png";
import { maskFromPng } from "../server/pipeline/mask.ts";
import { defaultTestPack, paletteImage } from "../test/server/helpers.ts";

const data = resolve(process.argv[2] ?? "../shared/data/celebamask-mini");
const pack = defaultTestPack();
const R = pack.manifest.resolution;
const masks = join(data, "train", "masks");
const chosen = readdirSync(masks).filter((f) => f.endsWith(".png")).sort().slice(0, 2);
mkdirSync("examples", { recursive: true });
chosen.forEach((file, i) => {
  // The server's own reader: class ids kept, resized nearest-neighbour to the pack's size.
  const { mask } = maskFromPng(readFileSync(join(masks, file)), pack.manifest.classes, R);
  const name = i === 0 ? "face" : `face-${i + 1}`;
  writeFileSync(`examples/${name}.png`, encode({ width: R, height: R, data: mask, channels: 1, depth: 8 }));
  if (i === 0) writeFileSync(`examples/${name}-palette.png`, encode({ width: R, height: R, data: paletteImage(pack.manifest.classes, mask), channels: 4, depth: 8 }));
  console.log(`examples/${name}.png from train/masks/${file}`);
});
