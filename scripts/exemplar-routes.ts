// Which way should an exemplar photo give its layout? Measures, on the default pack's own
// unconditional samples (their proxy mask is the truth), how often each route's proxy mask agrees:
//   encoder -> proxy (the paper's)   vs   parser -> mapper.mask -> argmax (pack.json photoLayout picks one;
//   npm run bench:photo compares them on real photos).
// Also prints one request's stage timings for each photo feature.
// Usage: npx tsx scripts/exemplar-routes.ts [--pack NAME] [--samples 32]
import { resolve } from "node:path";
import { chooseDefaultPack, loadPacks } from "../server/pack/registry.ts";
import { generate } from "../server/pipeline/generate.ts";
import { imageToRgba } from "../server/pipeline/image.ts";
import { invertPhoto } from "../server/pipeline/invert.ts";
import type { RgbImage } from "../server/pipeline/photo.ts";
import { closePackRuntime, defaultSessionSettings, openPackRuntime } from "../server/pipeline/runtime.ts";
import { conditionLogits, encodePhotos, latentsFor, logitsToProxy, mapLatents, parseImages, photoTensor, proxyOf, render, synthesizeFeatures } from "../server/pipeline/stages.ts";

const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const registry = loadPacks(resolve(flag("--packs") ?? "models/packs"), { log: () => {} });
const name = flag("--pack") ?? chooseDefaultPack(registry.packs.keys()).name;
const pack = name ? registry.packs.get(name) : undefined;
if (!pack) throw new Error(`no pack ${name}`);
const rt = await openPackRuntime(pack, { ...defaultSessionSettings("cpu"), intraOpNumThreads: 1 });
const m = pack.manifest;
const R = m.resolution;
const n = Number(flag("--samples") ?? 32);

const seeds = Array.from({ length: n }, (_, i) => 1000 + i);
const { features, style } = await synthesizeFeatures(rt, await mapLatents(rt, latentsFor(rt, seeds), m.truncation));
const truth = await proxyOf(rt, features);
const image = await render(rt, features, style);
const photos: RgbImage[] = seeds.map((_, i) => {
  const rgba = imageToRgba(image.data as Float32Array, n, R, R, i);
  const rgb = new Uint8Array(R * R * 3);
  for (let p = 0; p < R * R; p++) rgb.set(rgba.subarray(p * 4, p * 4 + 3), p * 3);
  return { width: R, height: R, rgb };
});
const viaEncoder = await proxyOf(rt, (await encodePhotos(rt, photoTensor(photos))).features);
const maps = await parseImages(rt, photoTensor(photos));
const flat = new Uint8Array(n * R * R);
maps.forEach((map, i) => flat.set(map, i * R * R));
const viaParser = logitsToProxy(await conditionLogits(rt, "mask", flat, n));
const agree = (a: BigInt64Array) => a.reduce((k, v, i) => k + (v === truth.data[i] ? 1 : 0), 0) / a.length;
const counts = new Map<bigint, number>();
for (const v of truth.data) counts.set(v, (counts.get(v) ?? 0) + 1);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
console.log(`${pack.name}, ${n} samples: proxy agreement encoder->proxy ${pct(agree(viaEncoder.data))}, parser->mapper.mask ${pct(agree(viaParser.data))}, majority cluster ${pct(Math.max(...counts.values()) / truth.data.length)}`);

const photo = photos[0];
const show = (what: string, t: Record<string, number>) => console.log(`${what}: ${Object.entries(t).map(([k, v]) => `${k} ${v}`).join(", ")} (ms)`);
show("exemplar", (await generate(rt, { condition: { kind: "exemplar", photo }, seed: 1, variations: 1 })).timings);
show("edges", (await generate(rt, { condition: { kind: "edges", photo }, seed: 1, variations: 1 })).timings);
show("source photo", (await generate(rt, { mask: maps[0], source: { photo }, seed: 1, variations: 1 })).timings);
const hair = m.classes.find((c) => c.name === "hair")?.id;
if (hair !== undefined) show("restyle (mask)", (await generate(rt, { mask: maps[0], restyle: { classes: [hair], seed: 5 }, seed: 1, variations: 1 })).timings);
show("invert", (await invertPhoto(rt, photo)).timings);
await closePackRuntime(rt);
