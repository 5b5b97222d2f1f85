// npm run eval [-- --masks 100 --seeds 10 --pack NAME --packs DIR --data DIR --out docs/RESULTS.md --no-bench --no-faces --smoke]
//
// The evaluation protocol end to end: test/ masks (prepared by models/train/evaluate.py) go through
// the server's own pipeline (server/pipeline/generate.ts, ONNX Runtime, in-process), every mask x every
// seed; a face detector (scripts/face-detection.ts) counts the outputs and the real test/ photos in which it
// finds a face (WORK/faces.json); evaluate.py then parses the outputs with the evaluation parser and
// writes docs/RESULTS.md.
// --smoke: a CI-sized run (4 masks x 2 seeds) into a temporary folder, docs untouched.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { decode } from "fast-png";
import { loadPacks } from "../server/pack/registry.ts";
import { generate } from "../server/pipeline/generate.ts";
import { closePackRuntime, defaultSessionSettings, openPackRuntime } from "../server/pipeline/runtime.ts";
import { PYTHON } from "./python.ts";
import { DETECTOR_INPUT, FACE_SCORE_THRESHOLD, faceRate, openFaceDetector } from "./face-detection.ts";

const ROOT = resolve(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    masks: { type: "string" },
    seeds: { type: "string" },
    pack: { type: "string" },
    packs: { type: "string", default: join(ROOT, "models/packs") },
    data: { type: "string" },
    config: { type: "string", default: "faces64" },
    "run-dir": { type: "string" },
    parser: { type: "string" },
    "parser-steps": { type: "string" },
    out: { type: "string" },
    work: { type: "string" },
    "no-bench": { type: "boolean", default: false },
    "no-faces": { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    python: { type: "string", default: PYTHON },
  },
});

const smoke = args.smoke;
const nMasks = Number(args.masks ?? (smoke ? 4 : 100));
const nSeeds = Number(args.seeds ?? (smoke ? 2 : 10));
const work = args.work ?? (smoke ? join(tmpdir(), `phototype-eval-${process.pid}`) : join(ROOT, ".cache/eval"));
const out = args.out ?? (smoke ? join(work, "RESULTS.md") : join(ROOT, "docs/RESULTS.md"));
const grids = smoke ? join(work, "grids") : join(ROOT, "docs/results");
const FIRST_SEED = 1000;

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
  const common = ["evaluate.py", stage, "--config", args.config!, "--work", work];
  if (args.data) common.push("--data", resolve(args.data));
  if (args["run-dir"]) common.push("--run-dir", resolve(args["run-dir"]));
  return run(args.python!, [...common, ...extra], join(ROOT, "models/train"));
}

mkdirSync(work, { recursive: true });
const registry = loadPacks(resolve(args.packs!), { log: (line) => console.error(line) });
const pack = args.pack ? registry.packs.get(args.pack) : registry.packs.get("faces-64") ?? [...registry.packs.values()][0];
if (!pack) fail(args.pack ? `pack ${args.pack} is not among the loaded packs in ${args.packs}` : `no valid pack in ${args.packs}`);
if (!pack.manifest.conditions.some((c) => c.kind === "mask")) fail(`pack ${pack.name} has no mapper for face masks (conditions: mask)`);
const R = pack.manifest.resolution;

process.on("unhandledRejection", (e) => fail((e as Error).message));

await python("prepare", ["--res", String(R), "--masks", String(nMasks)]);
const meta = JSON.parse(readFileSync(join(work, "masks.json"), "utf8")) as { n: number; real: number; real_full_res: number };
const masks = readFileSync(join(work, "masks.bin"));

const rt = await openPackRuntime(pack, defaultSessionSettings("cpu"));
const outputs = new Uint8Array(meta.n * nSeeds * R * R * 3);
const t0 = performance.now();
for (let i = 0; i < meta.n; i++) {
  const mask = new Uint8Array(masks.subarray(i * R * R, (i + 1) * R * R));
  const { images } = await generate(rt, { mask, seed: FIRST_SEED, variations: nSeeds });
  images.forEach((img, s) => {
    const png = decode(img.png);
    const ch = png.channels;
    const base = (i * nSeeds + s) * R * R * 3;
    for (let p = 0; p < R * R; p++) for (let c = 0; c < 3; c++) outputs[base + p * 3 + c] = png.data[p * ch + c] as number;
  });
  if ((i + 1) % 10 === 0 || i + 1 === meta.n) process.stderr.write(`\rgenerated ${(i + 1) * nSeeds}/${meta.n * nSeeds} images`);
}
const seconds = (performance.now() - t0) / 1000;
process.stderr.write("\n");
await closePackRuntime(rt);
writeFileSync(join(work, "outputs.bin"), outputs);
const timing = { images: meta.n * nSeeds, seconds: Number(seconds.toFixed(1)), ms_per_image: Number(((seconds * 1000) / (meta.n * nSeeds)).toFixed(1)), variations: nSeeds };
writeFileSync(join(work, "outputs.json"), JSON.stringify({ n: meta.n, seeds: nSeeds, res: R, first_seed: FIRST_SEED, timing }));

rmSync(join(work, "faces.json"), { force: true });
if (!args["no-faces"]) {
  const t1 = performance.now();
  const detector = await openFaceDetector();
  const F = meta.real_full_res;
  const faces = {
    detector: detector.name,
    threshold: FACE_SCORE_THRESHOLD,
    input: DETECTOR_INPUT,
    outputs: await faceRate(detector, outputs, R),
    real: await faceRate(detector, new Uint8Array(readFileSync(join(work, "real.bin"))), R),
    real_full: await faceRate(detector, new Uint8Array(readFileSync(join(work, `real-${F}.bin`))), F),
    ms_per_image: 0,
    seconds: 0,
  };
  const total = faces.outputs.images + faces.real.images + faces.real_full.images;
  const sets = [faces.outputs, faces.real, faces.real_full];
  faces.seconds = Number(((performance.now() - t1) / 1000).toFixed(1)); // with loading the detector
  faces.ms_per_image = Number((sets.reduce((a, x) => a + x.ms_per_image * x.images, 0) / total).toFixed(1));
  writeFileSync(join(work, "faces.json"), JSON.stringify(faces, null, 2));
  console.error(`face-detection rate: outputs ${faces.outputs.rate.toFixed(3)}, real test at ${R} px ${faces.real.rate.toFixed(3)}, ` +
    `at ${F} px ${faces.real_full.rate.toFixed(3)} (${total} images in ${faces.seconds} s)`);
}

if (!args["no-bench"] && !smoke) {
  await run(process.execPath, ["--import", "tsx", "scripts/bench-server.ts", "--packs", resolve(args.packs!), "--pack", pack.name,
    "--requests", "40", "--skip-options", "--skip-protocol", "--json", join(work, "bench.json")]);
}

const scoreArgs = ["--pack-dir", pack.dir, "--out", out, "--grids", grids];
if (args.parser) scoreArgs.push("--parser", resolve(args.parser));
if (args["parser-steps"]) scoreArgs.push("--parser-steps", args["parser-steps"]);
await python("score", scoreArgs);
console.log(`wrote ${out}`);
