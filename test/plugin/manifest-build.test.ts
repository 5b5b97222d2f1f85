// manifest.json as Figma reads it, the production-host rewrite, and the built files it points at.
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { buildUiHtml, defaultServerUrl, LOCAL_SERVER_URL, pluginEntry, withServer } from "../../scripts/build-plugin.mjs";

const manifest = JSON.parse(readFileSync("manifest.json", "utf8"));

describe("manifest.json", () => {
  it("declares what Figma requires of a new plugin", () => {
    expect(manifest).toMatchObject({
      api: "1.0.0",
      editorType: ["figma"],
      documentAccess: "dynamic-page",
      main: "dist/plugin.js",
      ui: "dist/ui.html",
    });
    expect(manifest.networkAccess.devAllowedDomains).toEqual(["ws://localhost:8787"]);
    expect(manifest.networkAccess.allowedDomains.length).toBeGreaterThan(0);
    expect(typeof manifest.networkAccess.reasoning).toBe("string");
  });

  it("points at the production host with --server-url, keeping the local server for development", () => {
    const prod = withServer(manifest, "wss://phototype.example.com:8443/ws");
    expect(prod.networkAccess).toMatchObject({
      allowedDomains: ["wss://phototype.example.com:8443"],
      devAllowedDomains: ["ws://localhost:8787"],
    });
    expect(prod.networkAccess!.reasoning).toMatch(/phototype\.example\.com:8443/);
    expect(defaultServerUrl(prod)).toBe("wss://phototype.example.com:8443/ws");
    expect(prod.main).toBe("dist/plugin.js"); // nothing else changes
    const back = withServer(prod, "local");
    expect(back.networkAccess!.allowedDomains).toEqual(["none"]);
    expect(defaultServerUrl(back)).toBe(LOCAL_SERVER_URL);
  });

  it("refuses an unencrypted production host", () => {
    expect(() => withServer(manifest, "ws://phototype.example.com/ws")).toThrow(/wss:\/\//);
  });
});

describe("built plugin files", () => {
  it("npm run build bundles the plugin's main thread next to the server", async () => {
    const buildScript = "../../scripts/build.mjs"; // plain JS without types: imported by path
    const { entries, buildPluginUi } = (await import(buildScript)) as { entries: { outfile?: string }[]; buildPluginUi: unknown };
    expect(entries.map((e) => e.outfile)).toContain(manifest.main);
    expect(typeof buildPluginUi).toBe("function");
  });

  it("the UI is one HTML file with its script and styles inline", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "phototype-ui-")), "ui.html");
    await buildUiHtml({ serverUrl: "wss://example.test/ws", outfile: out });
    const html = readFileSync(out, "utf8");
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+stylesheet/i);
    expect((html.match(/<script>/g) ?? []).length).toBe(1);
    expect(html).toContain("wss://example.test/ws"); // the baked-in default address
    expect(html).toMatch(/<style>[^<]*\.swatch/);
    // Nothing inside the script closes the element early.
    const script = html.slice(html.indexOf("<script>") + 8, html.lastIndexOf("</script>"));
    expect(script).not.toMatch(/<\/script/i);
  });

  it("the main thread is one classic script for Figma's sandbox", async () => {
    const out = await build({ ...pluginEntry(), write: false, bundle: true, logLevel: "silent" });
    const js = out.outputFiles[0].text;
    expect(js.trimStart().startsWith("(()=>{") || js.trimStart().startsWith("\"use strict\";(()=>{")).toBe(true);
    expect(js).not.toMatch(/^\s*(import|export)\s/m);
    expect(js).toContain("__html__");
  });
});
