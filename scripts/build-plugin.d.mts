// Types for scripts/build-plugin.mjs (plain JS so `node scripts/build.mjs` runs without a loader).
import type { BuildOptions } from "esbuild";

export const MANIFEST_PATH: string;
export const LOCAL_SERVER_URL: string;
export interface Manifest {
  networkAccess?: { allowedDomains?: string[]; devAllowedDomains?: string[]; reasoning?: string };
  [key: string]: unknown;
}
export function defaultServerUrl(manifest: Manifest): string;
export function withServer(manifest: Manifest, serverUrl: string): Manifest;
export function readManifest(): Promise<Manifest>;
export function writeManifest(manifest: Manifest): Promise<void>;
export function pluginEntry(): BuildOptions;
export function buildUiHtml(options: { serverUrl: string; outfile?: string; minify?: boolean }): Promise<{ outfile: string; bytes: number }>;
