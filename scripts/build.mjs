// Bundles the entry points with esbuild: `npm run build`. Each entry is one bundle; the UI and
// plugin entries join the list (or import `entries` / `buildAll` from here).
import { build } from "esbuild";
import { pathToFileURL } from "node:url";
import { buildUiHtml, defaultServerUrl, pluginEntry, readManifest, withServer, writeManifest } from "./build-plugin.mjs";

/** @type {import("esbuild").BuildOptions[]} */
export const entries = [
  {
    entryPoints: ["server/cli.ts"],
    outfile: "dist/server/cli.js",
    platform: "node",
    format: "esm",
    target: "node20",
    // npm dependencies stay imports: onnxruntime-node carries native binaries, ws optional addons.
    packages: "external",
    sourcemap: true,
  },
  // Uploaded images are decoded in worker threads (server/decoder.ts loads it beside cli.js).
  {
    entryPoints: ["server/decode-worker.ts"],
    outfile: "dist/server/decode-worker.js",
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: true,
  },
  // The in-process networks run in a worker thread (server/inference-pool.ts loads it beside cli.js).
  {
    entryPoints: ["server/inference-worker.ts"],
    outfile: "dist/server/inference-worker.js",
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: true,
  },
  // Figma plugin main thread: dist/plugin.js (IIFE, ES2017); see scripts/build-plugin.mjs.
  pluginEntry(),
];

/**
 * The Figma plugin UI: dist/ui.html, one file with script and styles inline (Figma's rule), so not
 * a plain esbuild entry. `serverUrl` (wss://host/ws, or "local") rewrites manifest.json's
 * allowedDomains first; the UI's default server address always follows the manifest.
 */
export async function buildPluginUi({ serverUrl } = {}) {
  let manifest = await readManifest();
  if (serverUrl) {
    manifest = withServer(manifest, serverUrl);
    await writeManifest(manifest);
  }
  return buildUiHtml({ serverUrl: defaultServerUrl(manifest) });
}

export async function buildAll(list = entries, { serverUrl } = {}) {
  const started = Date.now();
  for (const entry of list) await build({ bundle: true, logLevel: "warning", ...entry });
  const outputs = list.map((e) => e.outfile ?? e.outdir);
  if (outputs.includes(pluginEntry().outfile)) outputs.push((await buildPluginUi({ serverUrl })).outfile);
  console.log(`built ${outputs.join(", ")} in ${Date.now() - started} ms`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // `npm run build -- --server-url wss://host/ws` (or PHOTOTYPE_SERVER_URL): the plugin's production server.
  const flag = process.argv.indexOf("--server-url");
  await buildAll(entries, { serverUrl: flag >= 0 ? process.argv[flag + 1] : process.env.PHOTOTYPE_SERVER_URL });
}
