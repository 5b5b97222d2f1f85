// TensorFlow.js on its WASM backend in Node with the model files that @vladmandic/human (MIT) ships:
// shared by the face detector (scripts/face-detection.ts) and the face embedder (scripts/face-identity.ts).
// @tensorflow/tfjs-backend-wasm ships its .wasm files: no native build, no download. tfjs-core alone
// has no file system loader (that lives in tfjs-node, which downloads libtensorflow at install), so a
// file:// load router registered here reads model.json and its weight shards from node_modules.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { loadGraphModel, type GraphModel } from "@tensorflow/tfjs-converter";
import * as tf from "@tensorflow/tfjs-core";
import type { Config, Human } from "@vladmandic/human";

const require = createRequire(import.meta.url);
// The package's "exports" map names no subpaths Node accepts; its root ("node" condition) is the
// tfjs-node build, so find the folder through it and load the WASM build beside it.
const HUMAN_DIST = dirname(require.resolve("@vladmandic/human"));
/** Where Human's model.json files and weights lie. */
export const HUMAN_MODELS = join(HUMAN_DIST, "..", "models");
/** The @vladmandic/human release whose weights these are. */
export const HUMAN_VERSION = (JSON.parse(readFileSync(join(HUMAN_DIST, "..", "package.json"), "utf8")) as { version: string }).version;
const WASM_DIST = dirname(require.resolve("@tensorflow/tfjs-backend-wasm")) + "/";

let routerRegistered = false;

/** Loads tfjs graph models from file:// URLs (model.json + its weight shards beside it). */
export function registerFileRouter(): void {
  if (routerRegistered) return;
  routerRegistered = true;
  const router = (url: string | string[]): tf.io.IOHandler | null => {
    if (typeof url !== "string" || !url.startsWith("file://")) return null; // not ours: the next router
    const path = fileURLToPath(url);
    return {
      load: async () => {
        const json = JSON.parse(await readFile(path, "utf8")) as tf.io.ModelJSON;
        return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
          const specs = manifest.flatMap((group) => group.weights);
          const shards = await Promise.all(manifest.flatMap((group) => group.paths).map((p) => readFile(join(dirname(path), p))));
          const all = Buffer.concat(shards);
          return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer];
        });
      },
    };
  };
  tf.io.registerLoadRouter(router as Parameters<typeof tf.io.registerLoadRouter>[0]); // IORouter's type omits the null routers return for "not mine"
}

function checkWasm(who: string): void {
  if (tf.getBackend() !== "wasm") throw new Error(`${who}: tfjs backend is ${tf.getBackend()}, not wasm`);
}

/** Human's WASM build with only the given face models on, loaded; every body/hand/object model is off. */
export async function openHuman(face: Config["face"], who: string): Promise<Human> {
  registerFileRouter();
  const mod = (await import(pathToFileURL(join(HUMAN_DIST, "human.node-wasm.js")).href)) as { Human: new (config?: Partial<Config>) => Human };
  const off = { enabled: false };
  const human = new mod.Human({
    backend: "wasm",
    wasmPath: WASM_DIST,
    wasmPlatformFetch: false,
    modelBasePath: pathToFileURL(HUMAN_MODELS).href + "/",
    debug: false,
    async: false,
    warmup: "none",
    cacheModels: false,
    cacheSensitivity: 0,
    filter: { enabled: false },
    face,
    body: off, hand: off, object: off, gesture: off, segmentation: off,
  });
  await human.load();
  await tf.ready();
  checkWasm(who);
  return human;
}

/** A graph model from Human's models folder (e.g. "faceres.json"), run directly on the WASM backend. */
export async function loadHumanModel(file: string, who: string): Promise<GraphModel> {
  registerFileRouter();
  if (tf.getBackend() !== "wasm") {
    setWasmPaths(WASM_DIST, false); // same paths Human sets, so either may initialise the backend first
    if (!(await tf.setBackend("wasm"))) throw new Error(`${who}: the tfjs wasm backend did not initialise`);
  }
  await tf.ready();
  checkWasm(who);
  try {
    return await loadGraphModel(pathToFileURL(join(HUMAN_MODELS, file)).href);
  } catch (e) {
    throw new Error(`${who}: ${file} did not load from ${HUMAN_MODELS}: ${(e as Error).message}`);
  }
}
