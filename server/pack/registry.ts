// Finds and checks model packs: every folder under the packs dir with a pack.json. A pack is
// served only if its manifest matches the schema, every file it names is there with the right
// size and sha256, and its networks fit the pipeline. A broken pack is refused with one log line
// and the others keep serving.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { PackManifest, REQUIRED_NETWORKS } from "./schema.ts";
import { pipelineContractProblems } from "../pipeline/contract.ts";
import { sidePairProblem } from "../pipeline/side-pairs.ts";

export const PREFERRED_DEFAULT_PACK = "faces-128";

export interface LoadedPack {
  name: string;
  dir: string;
  manifest: PackManifest;
}

export interface RefusedPack {
  folder: string;
  dir: string;
  reason: string;
}

export interface PackRegistry {
  root: string;
  packs: Map<string, LoadedPack>;
  refused: RefusedPack[];
}

export class PackError extends Error {}

function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function checkFile(dir: string, what: string, file: string, bytes: number, sha256: string): void {
  const path = join(dir, file);
  if (!existsSync(path)) throw new PackError(`${what} file ${file} is missing`);
  const size = statSync(path).size;
  if (size !== bytes) throw new PackError(`${what} file ${file} is ${size} bytes, pack.json says ${bytes}`);
  const got = sha256File(path);
  if (got !== sha256) throw new PackError(`${what} file ${file} has sha256 ${got.slice(0, 12)}…, pack.json says ${sha256.slice(0, 12)}…`);
}

function firstSchemaError(raw: unknown): string {
  const e = Value.Errors(PackManifest, raw).First();
  return e ? `${e.path || "(root)"}: ${e.message}` : "does not match the schema";
}

/** Reads and checks one pack folder; throws PackError saying what is wrong. */
export function loadPackFolder(dir: string): LoadedPack {
  const manifestPath = join(dir, "pack.json");
  if (!existsSync(manifestPath)) throw new PackError("pack.json is missing");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, "utf8"));
  } catch (e) {
    throw new PackError(`pack.json is not valid JSON (${(e as Error).message})`);
  }
  if (!Value.Check(PackManifest, raw)) throw new PackError(`pack.json does not match the schema: ${firstSchemaError(raw)}`);
  const m = raw as PackManifest;

  const needed = [...REQUIRED_NETWORKS, ...m.conditions.map((c) => c.network)];
  const missing = needed.filter((k) => !m.networks[k]);
  if (missing.length) throw new PackError(`pack.json lacks required network(s) ${[...new Set(missing)].join(", ")}`);

  if (m.photoLayout === "parser") {
    const lacking = ["parser"].filter((k) => !m.networks[k]);
    if (!m.conditions.some((c) => c.kind === "mask")) lacking.push("a mask condition (mapper.mask)");
    if (lacking.length) throw new PackError(`photoLayout "parser" needs ${lacking.join(", ")}`);
  }

  const ids = new Set(m.classes.map((c) => c.id));
  const names = new Set(m.classes.map((c) => c.name));
  const colors = new Set(m.classes.map((c) => c.color));
  if (ids.size !== m.classes.length) throw new PackError("class ids are not unique");
  if (names.size !== m.classes.length) throw new PackError("class names are not unique");
  // Palette images are snapped to the nearest class colour: two classes with one colour are ambiguous.
  if (colors.size !== m.classes.length) throw new PackError("class colours are not unique");
  const sides = sidePairProblem(m);
  if (sides) throw new PackError(sides);

  const problems = pipelineContractProblems(m);
  if (problems.length) throw new PackError(`networks do not fit the pipeline: ${problems.join("; ")}`);

  for (const [key, net] of Object.entries(m.networks)) checkFile(dir, `network ${key}`, net.file, net.bytes, net.sha256);
  if (m.parity) checkFile(dir, "parity", m.parity.file, m.parity.bytes, m.parity.sha256);
  return { name: m.name, dir, manifest: m };
}

export interface LoadOptions {
  /** One line per refused pack; defaults to console.error. */
  log?: (line: string) => void;
}

/** Loads every pack folder under `root` (sorted by folder name); broken ones land in `refused`. */
export function loadPacks(root: string, options: LoadOptions = {}): PackRegistry {
  const log = options.log ?? ((line: string) => console.error(line));
  const abs = resolve(root);
  const registry: PackRegistry = { root: abs, packs: new Map(), refused: [] };
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    log(`packs: ${abs} is not a folder; no packs loaded`);
    return registry;
  }
  const folders = readdirSync(abs, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith("."))
    .map((d) => d.name)
    .sort();
  for (const folder of folders) {
    const dir = join(abs, folder);
    try {
      const pack = loadPackFolder(dir);
      if (registry.packs.has(pack.name)) throw new PackError(`another folder already serves a pack named ${pack.name}`);
      registry.packs.set(pack.name, pack);
    } catch (e) {
      const reason = e instanceof PackError ? e.message : `could not be read (${(e as Error).message})`;
      registry.refused.push({ folder, dir, reason });
      log(`pack ${folder}: refused: ${reason}`);
    }
  }
  return registry;
}

/** Marks a loaded pack as unusable after the fact (say, its sessions would not open). */
export function refusePack(registry: PackRegistry, name: string, reason: string, log: (line: string) => void): void {
  const pack = registry.packs.get(name);
  if (!pack) return;
  registry.packs.delete(name);
  registry.refused.push({ folder: name, dir: pack.dir, reason });
  log(`pack ${name}: refused: ${reason}`);
}

/** The requested pack if loaded, else faces-128 if loaded, else the first loaded pack by name. */
export function chooseDefaultPack(names: Iterable<string>, requested?: string): { name: string | null; note?: string } {
  const sorted = [...names].sort();
  if (requested && sorted.includes(requested)) return { name: requested };
  const fallback = sorted.includes(PREFERRED_DEFAULT_PACK) ? PREFERRED_DEFAULT_PACK : (sorted[0] ?? null);
  const note = requested ? `default pack ${requested} is not loaded; using ${fallback ?? "none"}` : undefined;
  return { name: fallback, note };
}
