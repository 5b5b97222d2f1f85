// npm run bench:photo [-- --pack NAME --packs DIR --photos 100 --samples 100 --seeds 2 --work DIR --data DIR --no-eval-parser --no-identity]
//
// A photo's layout by each route (server/pipeline/photo-layout.ts): encoder -> F -> proxy, or the
// pack's parser -> mapper.mask -> argmax. On the first --photos test/ photos (evaluation only:
// nothing is tuned here, the routes are compared) and on --samples of the pack's own samples (their
// proxy mask is known), each as a "photo" of the pack's resolution, through the server's stages:
//   plain        encoder -> g2, no rearranging (what the encoder keeps)
//   self         rearranger(F_enc, P, P) -> g2, P the route's proxy: an edit whose layout is the photo's
//                own (the server's edit with an untouched layout, on the parser route exactly)
//   edit         rearranger(F_enc, P_enc, P_par) -> g2: the encoder route's edit of the untouched
//                layout as the plugin sends it (the parse, through mapper.mask)
//   exemplar     --seeds new faces (g1) rearranged into the route's proxy of the photo
//   edit-kept    edit-encoder with the photo's own features kept where the two proxies agree (keep.ts)
//   changed-*    test/ photos only: an edit whose layout a designer changed (the photo's own mask with
//                hair grown, photo_routes.py), target mapper.mask(changed), source the parser route's
//                proxy: "unmoved" (the plain reconstruction, which ignores the change), "rearranged"
//                (every cell through the rearranger) or "kept" (as the server does it, keep.ts)
// Prints: the proxy's purity against the test/ mask (samples: agreement with the sample's own proxy),
// the mean agreement between different photos' proxies (a speckled mask agrees less), the
// evaluation parser's layout mIoU (python -m phototype_train study photo-routes score) against the
// photo's own mask (samples: the evaluation parser's reading of the sample), and faceres identity
// distance to the photo (scripts/face-identity.ts; a photo and its mirror image as two views).
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { chooseDefaultPack, loadPacks } from "../server/pack/registry.ts";
import type { PhotoLayout } from "../server/pack/schema.ts";
import { photoProxies } from "../server/pipeline/photo-layout.ts";
import type { RgbImage } from "../server/pipeline/photo.ts";
import { variationSeeds } from "../server/pipeline/prng.ts";
import { repeatEach, type ProxyMask } from "../server/pipeline/proxy-mask.ts";
import { closePackRuntime, defaultSessionSettings, openPackRuntime, type PackRuntime } from "../server/pipeline/runtime.ts";
import { keepAgreeing } from "../server/pipeline/keep.ts";
import { conditionLogits, encodePhotos, latentsFor, logitsToProxy, mapLatents, parseImages, photoTensor, proxyOf, rearrange, render, synthesizeFeatures } from "../server/pipeline/stages.ts";
import { planarToHwc } from "./eval-sets.ts";
import { cosineDistance, mirrorRgb, openFaceEmbedder, summarize } from "./face-identity.ts";
import { PYTHON } from "./python.ts";

const ROOT = resolve(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    pack: { type: "string" },
    packs: { type: "string", default: join(ROOT, "models/packs") },
    photos: { type: "string", default: "100" },
    samples: { type: "string", default: "100" },
    seeds: { type: "string", default: "2" },
    work: { type: "string" },
    data: { type: "string" },
    "no-eval-parser": { type: "boolean", default: false },
    "no-identity": { type: "boolean", default: false },
    python: { type: "string", default: PYTHON },
  },
});
const SAMPLE_SEED = 700_000; // far from npm run eval's seeds
const EXEMPLAR_SEED = 800_000;
const BATCH = 10;
const ROUTES: PhotoLayout[] = ["encoder", "parser"];

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

const registry = loadPacks(resolve(args.packs!), { log: (line) => console.error(line) });
const pack = registry.packs.get(args.pack ?? chooseDefaultPack(registry.packs.keys(), process.env.PHOTOTYPE_DEFAULT_PACK).name ?? "");
if (!pack) fail(`no pack ${args.pack ?? "(default)"} in ${args.packs}`);
for (const key of ["encoder", "parser", "mapper.mask"]) if (!pack.manifest.networks[key]) fail(`pack ${pack.name} has no ${key}, so it cannot compare the routes`);
const nPhotos = Number(args.photos), nSamples = Number(args.samples), S = Number(args.seeds);
for (const [name, v] of [["photos", nPhotos], ["samples", nSamples], ["seeds", S]] as const) {
  if (!Number.isInteger(v) || v < 1) fail(`--${name} must be a whole number of at least 1`);
}
const R = pack.manifest.resolution;
const work = resolve(args.work ?? join(ROOT, `.cache/bench-photo-${pack.name}`));
mkdirSync(work, { recursive: true });
const python = (step: string, extra: string[]) =>
  run(args.python!, ["-m", "phototype_train", "study", "photo-routes", step, "--work", work, ...(args.data ? ["--data", resolve(args.data)] : []), ...extra]);

process.on("unhandledRejection", (e) => fail((e as Error).message));

/** One item of a batch tensor per photo, as HWC RGB bytes. */
function photosOf(rgb: Uint8Array, n: number): RgbImage[] {
  return Array.from({ length: n }, (_, i) => ({ width: R, height: R, rgb: rgb.slice(i * R * R * 3, (i + 1) * R * R * 3) }));
}

/** Majority class of each feature cell's pixels: a class map at the proxy's resolution. */
function poolMajority(map: Uint8Array, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w);
  const sy = R / h, sx = R / w;
  const counts = new Uint32Array(256);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    counts.fill(0);
    for (let yy = y * sy; yy < (y + 1) * sy; yy++) for (let xx = x * sx; xx < (x + 1) * sx; xx++) counts[map[yy * R + xx]]++;
    let best = 0;
    for (let c = 1; c < 256; c++) if (counts[c] > counts[best]) best = c;
    out[y * w + x] = best;
  }
  return out;
}

/** Share of cells whose cluster's majority label is their label (models' metrics.purity). */
function purity(proxies: BigInt64Array, labels: Uint8Array): number {
  const table = new Map<number, Uint32Array>();
  proxies.forEach((k, i) => {
    const row = table.get(Number(k)) ?? table.set(Number(k), new Uint32Array(256)).get(Number(k))!;
    row[labels[i]]++;
  });
  let kept = 0;
  for (const row of table.values()) kept += Math.max(...row);
  return kept / proxies.length;
}

/** Mean share of equal cells over every pair of different items. */
function betweenAgreement(mask: ProxyMask): number {
  const plane = mask.h * mask.w;
  let sum = 0, pairs = 0;
  for (let i = 0; i < mask.n; i++) for (let j = i + 1; j < mask.n; j++) {
    let same = 0;
    for (let p = 0; p < plane; p++) if (mask.data[i * plane + p] === mask.data[j * plane + p]) same++;
    sum += same / plane;
    pairs++;
  }
  return sum / pairs;
}

const agreement = (a: BigInt64Array, b: BigInt64Array) => a.reduce((k, v, i) => k + (v === b[i] ? 1 : 0), 0) / a.length;

interface SetResult {
  n: number;
  outputs: Record<string, Uint8Array>;
  proxies: Record<PhotoLayout, BigInt64Array>;
  h: number;
  w: number;
}

/** Every output for n photos (HWC RGB bytes), in batches, and both routes' proxy masks; with
 * `changed` (a changed layout per photo, R x R class ids) the changed-layout edits too. */
async function runSet(rt: PackRuntime, rgb: Uint8Array, n: number, changed?: Uint8Array): Promise<SetResult> {
  const px = R * R * 3;
  const outputs: Record<string, Uint8Array> = {};
  const put = (name: string, per: number, img: ort.Tensor, at: number) => {
    outputs[name] ??= new Uint8Array(n * per * px);
    outputs[name].set(planarToHwc(img.data as Float32Array, img.dims[0], R), at * per * px);
  };
  const proxies: Partial<Record<PhotoLayout, BigInt64Array>> = {};
  let h = 0, w = 0;
  for (let i = 0; i < n; i += BATCH) {
    const b = Math.min(BATCH, n - i);
    const input = photoTensor(photosOf(rgb.subarray(i * px, (i + b) * px), b));
    const { features, style } = await encodePhotos(rt, input);
    const classMaps = await parseImages(rt, input);
    const P = {
      encoder: await photoProxies(rt, { features }, "encoder"),
      parser: await photoProxies(rt, { classMaps }, "parser"),
    };
    ({ h, w } = P.encoder);
    for (const route of ROUTES) {
      proxies[route] ??= new BigInt64Array(n * h * w);
      proxies[route]!.set(P[route].data, i * h * w);
    }
    const plain = await render(rt, features, style);
    put("plain", 1, plain, i);
    for (const route of ROUTES) put(`self-${route}`, 1, await render(rt, await rearrange(rt, features, P[route], P[route]), style), i);
    const edit = await rearrange(rt, features, P.encoder, P.parser);
    put("edit-encoder", 1, await render(rt, edit, style), i);
    put("edit-kept", 1, await render(rt, keepAgreeing(edit, features, P.encoder, P.parser), style), i);
    if (changed) {
      const target = logitsToProxy(await conditionLogits(rt, "mask", changed.subarray(i * R * R, (i + b) * R * R), b));
      const moved = await rearrange(rt, features, P.parser, target);
      put("changed-unmoved", 1, plain, i); // the plain reconstruction: what ignoring the change scores
      put("changed-rearranged", 1, await render(rt, moved, style), i);
      put("changed-kept", 1, await render(rt, keepAgreeing(moved, features, P.parser, target), style), i);
    }
    const seeds = Array.from({ length: b * S }, (_, k) => EXEMPLAR_SEED + (i * S + k));
    const g = await synthesizeFeatures(rt, await mapLatents(rt, latentsFor(rt, seeds), rt.pack.manifest.truncation));
    const own = await proxyOf(rt, g.features);
    for (const route of ROUTES) {
      const target = repeatEach(P[route], Array(b).fill(S));
      put(`exemplar-${route}`, S, await render(rt, await rearrange(rt, g.features, own, target), g.style), i);
    }
    process.stderr.write(`\r${i + b}/${n}`);
  }
  process.stderr.write("\n");
  return { n, outputs, proxies: proxies as Record<PhotoLayout, BigInt64Array>, h, w };
}

/** The pack's own samples as photos (RGB bytes, as a user would save them) and their proxy masks. */
async function samples(rt: PackRuntime, n: number): Promise<{ rgb: Uint8Array; truth: BigInt64Array }> {
  const rgb = new Uint8Array(n * R * R * 3);
  const parts: BigInt64Array[] = [];
  for (let i = 0; i < n; i += BATCH) {
    const seeds = variationSeeds(SAMPLE_SEED + i, Math.min(BATCH, n - i));
    const g = await synthesizeFeatures(rt, await mapLatents(rt, latentsFor(rt, seeds), rt.pack.manifest.truncation));
    parts.push((await proxyOf(rt, g.features)).data);
    rgb.set(planarToHwc((await render(rt, g.features, g.style)).data as Float32Array, seeds.length, R), i * R * R * 3);
  }
  const truth = new BigInt64Array(parts.reduce((k, p) => k + p.length, 0));
  parts.reduce((at, p) => (truth.set(p, at), at + p.length), 0);
  return { rgb, truth };
}

await python("prepare", ["--res", String(R), "--photos", String(nPhotos)]);
const real = new Uint8Array(readFileSync(join(work, "real.bin")));
const masks = new Uint8Array(readFileSync(join(work, "masks.bin")));
const changed = new Uint8Array(readFileSync(join(work, "changed.bin")));
const rt = await openPackRuntime(pack, { ...defaultSessionSettings("cpu"), intraOpNumThreads: 1 });
const t0 = performance.now();
const sample = await samples(rt, nSamples);
const sets = { test: await runSet(rt, real, nPhotos, changed), samples: await runSet(rt, sample.rgb, nSamples) };
await closePackRuntime(rt);
console.error(`ran the pipeline in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
writeFileSync(join(work, "samples.bin"), sample.rgb);
for (const [name, set] of Object.entries(sets)) for (const [out, bytes] of Object.entries(set.outputs)) writeFileSync(join(work, `outputs-${name}-${out}.bin`), bytes);
const perOf = (out: string) => (out.startsWith("exemplar") ? S : 1);
writeFileSync(join(work, "outputs.json"), JSON.stringify({
  res: R, pack: pack.name, seeds: S,
  sets: Object.fromEntries(Object.entries(sets).map(([name, set]) => [name, { n: set.n, outputs: Object.fromEntries(Object.keys(set.outputs).map((o) => [o, perOf(o)])) }])),
}));

// ---- proxy masks: purity against the test/ masks (samples: agreement with their own proxy), between-photo agreement
const proxyRows: Record<string, Record<PhotoLayout, { fit: number; between: number }>> = {};
for (const [name, set] of Object.entries(sets)) {
  const { h, w } = set;
  const labels = new Uint8Array(set.n * h * w);
  if (name === "test") for (let i = 0; i < set.n; i++) labels.set(poolMajority(masks.subarray(i * R * R, (i + 1) * R * R), h, w), i * h * w);
  proxyRows[name] = Object.fromEntries(ROUTES.map((route) => {
    const data = set.proxies[route];
    const fit = name === "test" ? purity(data, labels) : agreement(data, sample.truth);
    return [route, { fit, between: betweenAgreement({ n: set.n, h, w, data }) }];
  })) as Record<PhotoLayout, { fit: number; between: number }>;
}
const sampleBetween = betweenAgreement({ n: nSamples, h: sets.samples.h, w: sets.samples.w, data: sample.truth });

// ---- identity: faceres distance of each edit-like output to its photo
const identity: Record<string, Record<string, number>> = {};
if (!args["no-identity"]) {
  const embedder = await openFaceEmbedder();
  for (const [name, set] of Object.entries(sets)) {
    const photos = name === "test" ? real : sample.rgb;
    const ref = await embedder.embed(photos, R);
    const mirrored = new Uint8Array(photos.length);
    for (let i = 0; i < set.n; i++) mirrored.set(mirrorRgb(photos.subarray(i * R * R * 3, (i + 1) * R * R * 3), R), i * R * R * 3);
    const dist = (emb: Float32Array[]) => summarize(emb.map((e, i) => cosineDistance(e, ref[i]))).mean;
    identity[name] = { mirror: dist(await embedder.embed(mirrored, R)) };
    for (const out of Object.keys(set.outputs).filter((o) => !o.startsWith("exemplar"))) identity[name][out] = dist(await embedder.embed(set.outputs[out], R));
  }
}

let miou: Record<string, Record<string, { miou: number; mean_image_miou: number }>> | null = null;
if (!args["no-eval-parser"]) {
  await python("score", []);
  miou = JSON.parse(readFileSync(join(work, "eval-parser.json"), "utf8")).sets;
}
writeFileSync(join(work, "summary.json"), JSON.stringify({ pack: pack.name, proxy: proxyRows, sampleBetween, identity, miou }, null, 2));

const pct = (x: number | undefined) => (x === undefined ? "-" : (100 * x).toFixed(1));
const id = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(3));
console.log(`\n${pack.name}: ${nPhotos} test/ photos, ${nSamples} samples (seeds from ${SAMPLE_SEED}), exemplar ${S} seeds a photo (from ${EXEMPLAR_SEED}); ONNX Runtime on 1 thread`);
console.log("| photos | route | proxy: purity vs mask (samples: = own proxy) % | proxy agreement between photos % | self-rearranged mIoU | vs plain | edit mIoU | edit identity distance | exemplar mIoU |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const name of Object.keys(sets)) {
  const m = miou?.[name];
  const plain = m?.plain.miou;
  for (const route of ROUTES) {
    const self = m?.[`self-${route}`]?.miou;
    const edit = route === "parser" ? self : m?.["edit-encoder"]?.miou;
    const editId = identity[name]?.[route === "parser" ? "self-parser" : "edit-encoder"];
    const delta = self !== undefined && plain !== undefined ? `${self >= plain ? "+" : ""}${(100 * (self - plain)).toFixed(1)}` : "-";
    console.log(`| ${name} | ${route} | ${pct(proxyRows[name][route].fit)} | ${pct(proxyRows[name][route].between)} | ${pct(self)} | ${delta} | ${pct(edit)} | ${id(editId)} | ${pct(m?.[`exemplar-${route}`]?.miou)} |`);
  }
  console.log(`| ${name} | plain encoder -> g2 | | | ${pct(plain)} | | | ${id(identity[name]?.plain)} | |`);
}
console.log(`\nsamples' own proxy masks agree between samples on ${pct(sampleBetween)} % of cells; a photo and its mirror image (two views): identity distance test ${id(identity.test?.mirror)}, samples ${id(identity.samples?.mirror)}`);
console.log("\n| photos | edit | layout | mIoU against it | hair IoU | identity distance to the photo |\n|---|---|---|---|---|---|");
for (const name of Object.keys(sets)) {
  for (const [out, layout] of [["edit-encoder", "own (encoder route)"], ["edit-kept", "own (encoder route), agreeing cells kept"],
    ["changed-unmoved", "hair grown; the plain reconstruction, which ignores it"],
    ["changed-rearranged", "hair grown (parser route)"], ["changed-kept", "hair grown (parser route), agreeing cells kept"]]) {
    const m = miou?.[name]?.[out] as { miou: number; hair_iou?: number } | undefined;
    if (sets[name as keyof typeof sets].outputs[out]) console.log(`| ${name} | ${out} | ${layout} | ${pct(m?.miou)} | ${pct(m?.hair_iou)} | ${id(identity[name]?.[out])} |`);
  }
}
console.log(`self-rearranged identity distance: encoder route test ${id(identity.test?.["self-encoder"])}, samples ${id(identity.samples?.["self-encoder"])}`);
