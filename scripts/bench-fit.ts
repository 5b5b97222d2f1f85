// npm run bench:fit [-- --pack NAME --packs DIR --masks 100 --variations 2 --ks 1,2,4,8 --work DIR --data DIR --no-eval-parser]
//
// What fitting the layout buys and costs. train/ layouts only (never test/: the same layouts
// npm run eval scores must not choose the default), prepared by python -m phototype_train study
// fit-layout. Every layout goes through the server's own generate() once per k (fit k: k
// candidates per kept image, k = 1 is off), the k's taken in a rotating order so that the machine's
// drift falls on all alike. Prints, per k: the pack parser's layout mIoU of the kept images
// (mean per image: what fit chooses by), the fixed evaluation parser's (models/eval/parser.pt,
// accumulated as npm run eval reports it), and the wall time per kept image with its ratio to k = 1.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { chooseDefaultPack, loadPacks } from "../server/pack/registry.ts";
import { scoreCandidates } from "../server/pipeline/fit.ts";
import { generate } from "../server/pipeline/generate.ts";
import { rgbaOfPng } from "../server/pipeline/image.ts";
import { closePackRuntime, defaultSessionSettings, openPackRuntime } from "../server/pipeline/runtime.ts";
import { PYTHON } from "./python.ts";

const ROOT = resolve(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    pack: { type: "string" },
    packs: { type: "string", default: join(ROOT, "models/packs") },
    masks: { type: "string", default: "100" },
    variations: { type: "string", default: "2" },
    ks: { type: "string", default: "1,2,4,8" },
    work: { type: "string" },
    data: { type: "string" },
    "no-eval-parser": { type: "boolean", default: false },
    python: { type: "string", default: PYTHON },
  },
});

const FIRST_SEED = 2000;
const SEED_STRIDE = 100; // each layout's candidates are seeds of their own (at most 8 x 8 = 64)

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

function run(cmd: string, argv: string[]): Promise<void> {
  return new Promise((ok, bad) => {
    const child = spawn(cmd, argv, { cwd: ROOT, stdio: "inherit" });
    child.on("error", (e) => bad(new Error(`${cmd} could not start: ${e.message}`)));
    child.on("exit", (code) => (code === 0 ? ok() : bad(new Error(`${cmd} ${argv.slice(0, 4).join(" ")} exited with ${code}`))));
  });
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const registry = loadPacks(resolve(args.packs!), { log: (line) => console.error(line) });
const pack = registry.packs.get(args.pack ?? chooseDefaultPack(registry.packs.keys(), process.env.PHOTOTYPE_DEFAULT_PACK).name ?? "");
if (!pack) fail(`no pack ${args.pack ?? "(default)"} in ${args.packs}`);
if (!pack.manifest.networks.parser) fail(`pack ${pack.name} has no parser, so it cannot fit the layout`);
const nMasks = Number(args.masks), v = Number(args.variations);
const ks = args.ks!.split(",").map(Number);
if (!Number.isInteger(nMasks) || nMasks < 1) fail("--masks must be a whole number of at least 1");
if (!Number.isInteger(v) || v < 1 || v > 8) fail("--variations must be 1 to 8");
if (!ks.every((k) => Number.isInteger(k) && k >= 1 && k <= 8) || !ks.includes(1)) fail("--ks must be whole numbers from 1 to 8, 1 among them (the baseline)");
const R = pack.manifest.resolution;
const work = resolve(args.work ?? join(ROOT, `.cache/bench-fit-${pack.name}`));
mkdirSync(work, { recursive: true });
const python = (step: string, extra: string[]) =>
  run(args.python!, ["-m", "phototype_train", "study", "fit-layout", step, "--work", work, ...(args.data ? ["--data", resolve(args.data)] : []), ...extra]);

process.on("unhandledRejection", (e) => fail((e as Error).message));

await python("prepare", ["--res", String(R), "--masks", String(nMasks)]);
const layouts = new Uint8Array(readFileSync(join(work, "masks.bin")));
const rt = await openPackRuntime(pack, defaultSessionSettings("cpu"));
const maskOf = (i: number) => layouts.slice(i * R * R, (i + 1) * R * R);
await generate(rt, { mask: maskOf(0), seed: 0, variations: v, fit: Math.max(...ks) }); // warm-up, untimed

const per = new Map(ks.map((k) => [k, { ms: [] as number[], fitMs: [] as number[], scores: [] as number[], rgb: new Uint8Array(nMasks * v * R * R * 3) }]));
const t0 = performance.now();
for (let i = 0; i < nMasks; i++) {
  const mask = maskOf(i);
  for (let j = 0; j < ks.length; j++) {
    const k = ks[(i + j) % ks.length];
    const row = per.get(k)!;
    const started = performance.now();
    const out = await generate(rt, { mask, seed: FIRST_SEED + i * SEED_STRIDE, variations: v, fit: k });
    row.ms.push((performance.now() - started) / v);
    if (out.timings.fit !== undefined) row.fitMs.push(out.timings.fit / v);
    // Untimed: the pack parser's score of what was kept (for k = 1 too), and the pixels for the evaluation parser.
    const rgba = out.images.map((img) => rgbaOfPng(img.png, R, R));
    row.scores.push(...(await scoreCandidates(rt, rgba, mask)));
    rgba.forEach((px, s) => {
      const at = (i * v + s) * R * R * 3;
      for (let p = 0; p < R * R; p++) row.rgb.set(px.subarray(p * 4, p * 4 + 3), at + p * 3);
    });
  }
  process.stderr.write(`\r${i + 1}/${nMasks} layouts (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
process.stderr.write("\n");
await closePackRuntime(rt);
for (const [k, row] of per) writeFileSync(join(work, `outputs-k${k}.bin`), row.rgb);
writeFileSync(join(work, "outputs.json"), JSON.stringify({ variations: v, ks, first_seed: FIRST_SEED }));

let evalRows: Record<string, { miou: number; mean_image_miou: number }> | null = null;
if (!args["no-eval-parser"]) {
  await python("score", ["--ks", ...ks.map(String)]);
  evalRows = JSON.parse(readFileSync(join(work, "eval-parser.json"), "utf8")).fit;
}

const base = per.get(1)!;
const pct = (x: number) => (100 * x).toFixed(1);
const signed = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`;
console.log(`\n${pack.name}: ${nMasks} train/ layouts x ${v} kept images, seeds from ${FIRST_SEED}; ONNX Runtime on ${rt.settings.intraOpNumThreads} thread(s)`);
console.log("| fit k (candidates per kept image) | pack parser mIoU (mean per image) | gain | evaluation parser mIoU | gain | ms per kept image (mean / median) | of which parsing | time vs k = 1 |");
console.log("|---|---|---|---|---|---|---|---|");
for (const k of [...ks].sort((a, b) => a - b)) {
  const row = per.get(k)!;
  const e = evalRows?.[String(k)], e1 = evalRows?.["1"];
  const evalCells = e && e1 ? `${pct(e.miou)} | ${k === 1 ? "" : signed(e.miou - e1.miou)}` : "- | -";
  console.log(
    `| ${k === 1 ? "1 (off)" : k} | ${pct(mean(row.scores))} | ${k === 1 ? "" : signed(mean(row.scores) - mean(base.scores))} | ${evalCells} | ` +
      `${mean(row.ms).toFixed(0)} / ${median(row.ms).toFixed(0)} | ${row.fitMs.length ? mean(row.fitMs).toFixed(0) : "0"} | ${(mean(row.ms) / mean(base.ms)).toFixed(2)}x |`,
  );
}
