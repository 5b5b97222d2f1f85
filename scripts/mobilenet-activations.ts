// Usage: npx tsx scripts/mobilenet-activations.ts INPUT.f32 N SIZE OUT_DIR LAYER...
// Runs nsfwjs's Keras MobileNetV2 in tfjs (cpu backend) on N float32 NHWC images of SIZE x SIZE and writes each
// named layer's output to OUT_DIR/LAYER.f32 (float32 NHWC), then prints their shapes as JSON.
// The reference for models/phototype_train/evaluation/mobilenet_features.py (checked by its tests).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";

const [input, nArg, sizeArg, outDir, ...layers] = process.argv.slice(2);
if (!input || !outDir || layers.length === 0) {
  console.error("usage: mobilenet-activations INPUT.f32 N SIZE OUT_DIR LAYER...");
  process.exit(2);
}
const n = Number(nArg);
const size = Number(sizeArg);

// nsfwjs ships model.json and weight shards as CommonJS bundles: an object and base64 strings.
const require = createRequire(import.meta.url);
// (absolute path: the package's "exports" map hides dist/models)
const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules/nsfwjs/dist/models/mobilenet_v2");
const model = require(`${dir}/model.min.js`);
const weightSpecs: tf.io.WeightsManifestEntry[] = [];
const shards: Buffer[] = [];
for (const group of model.weightsManifest) {
  for (const path of group.paths) shards.push(Buffer.from(require(`${dir}/${path}.min.js`), "base64"));
  weightSpecs.push(...group.weights);
}
const all = Buffer.concat(shards);
const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);

await tf.setBackend("cpu");
const net = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs, weightData }));
const sub = tfl.model({ inputs: net.inputs, outputs: layers.map((l) => net.getLayer(l).output as tfl.SymbolicTensor) });

const raw = readFileSync(input);
const x = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, n * size * size * 3), [n, size, size, 3]);
const outs = sub.predict(x);
const list = Array.isArray(outs) ? outs : [outs];
mkdirSync(outDir, { recursive: true });
const shapes: Record<string, number[]> = {};
for (const [i, t] of list.entries()) {
  writeFileSync(join(outDir, `${layers[i]}.f32`), Buffer.from((await t.data()).buffer));
  shapes[layers[i]] = t.shape;
}
console.log(JSON.stringify(shapes));
