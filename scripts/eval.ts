// npm run eval [-- --masks 100 --seeds 10 --pairs 200 --pack NAME --packs DIR --data DIR --out docs/RESULTS-PACK.md --grids docs/results/PACK --work .cache/eval-PACK --pack-metrics --no-bench --no-faces --smoke --split test|train]
//
// The evaluation protocol end to end: test/ layouts (exact masks and the same layouts as designer
// shapes, prepared by python -m phototype_train eval prepare) go through the server's own pipeline (ONNX Runtime,
// in-process), every layout x every seed; unconditional samples and rearranger pairs come from its
// stages (eval-sets.ts). A face detector and a face-identity network read every output and the real
// test/ photos; evaluate.py then scores it all and writes docs/RESULTS-PACK.md and the pack's metrics (PACK: the default pack unless --pack).
// --smoke: a CI-sized run (4 layouts x 2 seeds) into a temporary folder, docs and pack untouched.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { chooseDefaultPack, loadPacks } from "../server/pack/registry.ts";
import { closePackRuntime, defaultSessionSettings, openPackRuntime } from "../server/pipeline/runtime.ts";
import { PYTHON } from "./python.ts";
import { layoutOutputs, rearrangerPairs, unconditionalOutputs } from "./eval-sets.ts";
import { DETECTOR_INPUT, FACE_SCORE_THRESHOLD, faceRate, openFaceDetector } from "./face-detection.ts";
import { CROP, EMBEDDER_INPUT, mirrorRgb, openFaceEmbedder } from "./face-identity.ts";

const ROOT = resolve(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    masks: { type: "string" },
    seeds: { type: "string" },
    pack: { type: "string" },
    packs: { type: "string", default: join(ROOT, "models/packs") },
    data: { type: "string" },
    pairs: { type: "string" },
    out: { type: "string" },
    work: { type: "string" },
    grids: { type: "string" },
    // With --out, pack.json keeps its metrics unless asked: a partial run must not overwrite them.
    "pack-metrics": { type: "boolean", default: false },
    "no-bench": { type: "boolean", default: false },
    "no-faces": { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    // train: the same measures on train/ layouts and photos, to choose a pack's settings without looking at test/.
    split: { type: "string", default: "test" },
    python: { type: "string", default: PYTHON },
  },
});

const smoke = args.smoke;
const split = args.split!;
if (split !== "test" && split !== "train") fail(`--split must be test or train, not ${split}`);
if (split !== "test" && args["pack-metrics"]) fail("--pack-metrics takes a test/ run: a train/ run chooses settings, and its numbers stay out of pack.json");
const nMasks = Number(args.masks ?? (smoke ? 4 : 100));
const nSeeds = Number(args.seeds ?? (smoke ? 2 : 10));
const nPairs = Number(args.pairs ?? (smoke ? 2 : 200));
const registry = loadPacks(resolve(args.packs!), { log: (line) => console.error(line) });
const defaultName = chooseDefaultPack(registry.packs.keys(), process.env.PHOTOTYPE_DEFAULT_PACK).name;
const pack = registry.packs.get(args.pack ?? defaultName ?? "");
if (!pack) fail(args.pack ? `pack ${args.pack} is not among the loaded packs in ${args.packs}` : `no valid pack in ${args.packs}`);
// Each pack's results have their own page, grids and work folder, so measuring one keeps the others.
// Paths given are taken from where the command runs, and the Python steps get them absolute.
// A train/ run keeps to its work folder: the docs show test/ results only.
const docs = !smoke && split === "test";
const work = args.work ? resolve(args.work) : (smoke ? join(tmpdir(), `phototype-eval-${process.pid}`) : join(ROOT, `.cache/eval-${pack.name}${docs ? "" : `-${split}`}`));
const out = args.out ? resolve(args.out) : (docs ? join(ROOT, `docs/RESULTS-${pack.name}.md`) : join(work, "RESULTS.md"));
const grids = args.grids ? resolve(args.grids) : (docs ? join(ROOT, `docs/results/${pack.name}`) : join(work, "grids"));
const FIRST_SEED = 1000;
const UNCONDITIONAL_SEED = 500_000; // far from the layouts' seeds
const PAIR_SEED = 900_000;

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

function run(cmd: string, argv: string[], cwd = ROOT): Promise<void> {
  return new Promise((ok, bad) => {
    const child = spawn(cmd, argv, { cwd, stdio: "inherit" });
    child.on("error", (e) => bad(new Error(`${cmd} could not start: ${e.message}`)));
    child.on("exit", (code) => (code === 0 ? ok() : bad(new Error(`${cmd} ${argv.slice(0, 2).join(" ")} exited with ${code}`))));
  });
}

function python(stage: "prepare" | "score", extra: string[]): Promise<void> {
  const common = ["-m", "phototype_train", "eval", stage, "--work", work];
  if (args.data) common.push("--data", resolve(args.data));
  return run(args.python!, [...common, ...extra]);
}

mkdirSync(work, { recursive: true });
for (const [name, v] of [["masks", nMasks], ["seeds", nSeeds], ["pairs", nPairs]] as const) {
  if (!Number.isInteger(v) || v < 1) fail(`--${name} must be a whole number of at least 1, not ${String(args[name])}`);
}
if (nSeeds < 2 || nMasks < 2) fail("identity needs at least 2 layouts and 2 seeds (--masks, --seeds)");
if (!pack.manifest.conditions.some((c) => c.kind === "mask")) fail(`pack ${pack.name} has no mapper for face masks (conditions: mask)`);
const R = pack.manifest.resolution;

process.on("unhandledRejection", (e) => fail((e as Error).message));

await python("prepare", ["--res", String(R), "--masks", String(nMasks), "--split", split]);
const meta = JSON.parse(readFileSync(join(work, "masks.json"), "utf8")) as {
  n: number; real: number; real_full_res: number; off_habit?: { kinds: string[]; per_kind: number };
};
const layouts = { exact: readFileSync(join(work, "masks.bin")), designer: readFileSync(join(work, "designer.bin")) };

const rt = await openPackRuntime(pack, defaultSessionSettings("cpu"));
const total = meta.n * nSeeds;
const sets: Record<string, Uint8Array> = {};
const t0 = performance.now();
for (const [name, bytes] of Object.entries(layouts)) {
  sets[name] = await layoutOutputs(rt, new Uint8Array(bytes), meta.n, nSeeds, FIRST_SEED, (done) => {
    if (done % 100 === 0 || done === total) process.stderr.write(`\r${name} layouts: ${done}/${total} images`);
  });
  process.stderr.write("\n");
}
const seconds = (performance.now() - t0) / 1000;
// Off-habit layouts (wide face, big ears, a hat, no hair): fewer seeds, as each kind is one measure.
const offSeeds = Math.min(nSeeds, 4);
if (meta.off_habit) {
  const count = meta.off_habit.kinds.length * meta.off_habit.per_kind;
  sets.offhabit = await layoutOutputs(rt, new Uint8Array(readFileSync(join(work, "offhabit.bin"))), count, offSeeds, FIRST_SEED, (done) => {
    if (done % 20 === 0 || done === count * offSeeds) process.stderr.write(`\roff-habit layouts: ${done}/${count * offSeeds} images`);
  });
  process.stderr.write("\n");
}
sets.unconditional = await unconditionalOutputs(rt, total, UNCONDITIONAL_SEED);
sets.pairs = await rearrangerPairs(rt, nPairs, PAIR_SEED);
await closePackRuntime(rt);
for (const [name, bytes] of Object.entries(sets)) writeFileSync(join(work, `outputs-${name}.bin`), bytes);
const timing = { images: 2 * total, seconds: Number(seconds.toFixed(1)), ms_per_image: Number(((seconds * 1000) / (2 * total)).toFixed(1)), variations: nSeeds };
console.error(`generated ${2 * total} layout images, ${total} unconditional samples and ${nPairs} rearranged pairs`);

const outputsMeta: Record<string, unknown> = { n: meta.n, seeds: nSeeds, res: R, pairs: nPairs, first_seed: FIRST_SEED, timing,
  ...(meta.off_habit ? { off_habit_seeds: offSeeds } : {}) };
rmSync(join(work, "faces.json"), { force: true });
if (!args["no-faces"]) {
  const t1 = performance.now();
  const detector = await openFaceDetector();
  const real = new Uint8Array(readFileSync(join(work, "real.bin")));
  const F = meta.real_full_res;
  const faces = {
    detector: detector.name,
    threshold: FACE_SCORE_THRESHOLD,
    input: DETECTOR_INPUT,
    exact: await faceRate(detector, sets.exact, R),
    designer: await faceRate(detector, sets.designer, R),
    unconditional: await faceRate(detector, sets.unconditional, R),
    real: await faceRate(detector, real, R),
    real_full: await faceRate(detector, new Uint8Array(readFileSync(join(work, `real-${F}.bin`))), F),
    seconds: 0,
  };
  faces.seconds = Number(((performance.now() - t1) / 1000).toFixed(1));
  writeFileSync(join(work, "faces.json"), JSON.stringify(faces, null, 2));
  console.error(`face-detection rate: exact ${faces.exact.rate.toFixed(3)}, designer ${faces.designer.rate.toFixed(3)}, ` +
    `unconditional ${faces.unconditional.rate.toFixed(3)}, real at ${R} px ${faces.real.rate.toFixed(3)} (${faces.seconds} s)`);

  const embedder = await openFaceEmbedder();
  const pack32 = (vs: Float32Array[]) => Buffer.from(new Float32Array(vs.flatMap((v) => [...v])).buffer);
  writeFileSync(join(work, "embeddings-exact.bin"), pack32(await embedder.embed(sets.exact, R)));
  writeFileSync(join(work, "embeddings-designer.bin"), pack32(await embedder.embed(sets.designer, R)));
  // Real photos, two views each (the photo, and the photo mirrored): the same person's distance scale.
  const views = new Uint8Array(real.length * 2);
  const px = R * R * 3;
  for (let i = 0; i < real.length / px; i++) {
    views.set(real.subarray(i * px, (i + 1) * px), 2 * i * px);
    views.set(mirrorRgb(real.subarray(i * px, (i + 1) * px), R), (2 * i + 1) * px);
  }
  const realEmb = await embedder.embed(views, R);
  writeFileSync(join(work, "embeddings-real.bin"), pack32(realEmb));
  Object.assign(outputsMeta, { embedding_dims: realEmb[0].length, embedder: embedder.name,
    embedding_crop: `a fixed centre crop (${Math.round(CROP * 100)} % of the side, resized to ${EMBEDDER_INPUT} px)` });
}
writeFileSync(join(work, "outputs.json"), JSON.stringify(outputsMeta));

if (!args["no-bench"] && !smoke) {
  await run(process.execPath, ["--import", "tsx", "scripts/bench-server.ts", "--packs", resolve(args.packs!), "--pack", pack.name,
    "--requests", "40", "--skip-options", "--skip-protocol", "--json", join(work, "bench.json")]);
}

const scoreArgs = ["--pack-dir", pack.dir, "--out", out, "--grids", grids];
if (docs && (!args.out || args["pack-metrics"])) scoreArgs.push("--pack-metrics");
await python("score", scoreArgs);
console.log(`wrote ${out}`);

