// The Figma plugin's part of the build: dist/plugin.js (main thread) and dist/ui.html (the UI as
// ONE html file with its script and styles inlined, as Figma requires), plus the manifest's
// network access for a production server (`npm run build -- --server-url wss://host/ws`).
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { build, transform } from "esbuild";

export const MANIFEST_PATH = "manifest.json";
export const LOCAL_SERVER_URL = "ws://localhost:8787/ws";

/** The server address the UI starts with: the manifest's production host, else the local server. */
export function defaultServerUrl(manifest) {
  const domain = (manifest.networkAccess?.allowedDomains ?? []).find((d) => /^wss?:\/\//.test(d));
  return domain ? `${domain.replace(/\/$/, "")}/ws` : LOCAL_SERVER_URL;
}

/**
 * Points the manifest at a production server: allowedDomains gets the URL's origin (wss:// with
 * host and port, as Figma's CSP matches them), devAllowedDomains keeps the local server.
 * `local` puts it back to local-only ("none").
 */
export function withServer(manifest, serverUrl) {
  const network = { ...manifest.networkAccess };
  if (serverUrl === "local") {
    network.allowedDomains = ["none"];
    network.reasoning = "Phototype talks only to a server you run on this computer (development: ws://localhost:8787).";
  } else {
    const url = new URL(serverUrl);
    if (url.protocol !== "wss:") throw new Error(`--server-url must be wss:// for a production host (got ${serverUrl}); local servers are already allowed in development.`);
    network.allowedDomains = [`wss://${url.host}`];
    network.reasoning = `Phototype sends the frame's layout (a small class mask, no file content) to the Phototype server at ${url.host}, which returns the generated images.`;
  }
  network.devAllowedDomains = [new URL(LOCAL_SERVER_URL).origin];
  return { ...manifest, networkAccess: network };
}

export async function readManifest() {
  return JSON.parse(await readFile(MANIFEST_PATH, "utf8"));
}

export async function writeManifest(manifest) {
  await writeFile(MANIFEST_PATH, JSON.stringify(manifest, null, 2) + "\n");
}

/** esbuild options for the main thread: Figma's sandbox runs one classic script. */
export function pluginEntry() {
  return {
    entryPoints: ["plugin/main.ts"],
    outfile: "dist/plugin.js",
    platform: "browser",
    format: "iife",
    target: "es2017",
    minify: true,
    sourcemap: false,
  };
}

function inlineScript(js) {
  // Inside <script>, "</script" ends the element and "<!--" changes how it is parsed.
  return js.replace(/<\/script/gi, "<\\/script").replace(/<!--/g, "<\\!--");
}

/** Bundles ui/main.tsx and writes dist/ui.html with the script and styles inline. */
export async function buildUiHtml({ serverUrl, outfile = "dist/ui.html", minify = true }) {
  const result = await build({
    entryPoints: ["ui/main.tsx"],
    bundle: true,
    write: false,
    platform: "browser",
    format: "iife",
    target: ["chrome110", "safari16", "firefox110"],
    jsx: "automatic",
    jsxImportSource: "preact",
    minify,
    define: { __PHOTOTYPE_SERVER_URL__: JSON.stringify(serverUrl) },
    logLevel: "warning",
  });
  const js = result.outputFiles[0].text;
  const css = (await transform(await readFile("ui/styles.css", "utf8"), { loader: "css", minify })).code;
  const template = await readFile("ui/index.html", "utf8");
  const html = template.replace("/*__STYLE__*/", () => css).replace("/*__SCRIPT__*/", () => inlineScript(js));
  await mkdir(outfile.replace(/\/[^/]+$/, ""), { recursive: true });
  await writeFile(outfile, html);
  return { outfile, bytes: Buffer.byteLength(html) };
}
