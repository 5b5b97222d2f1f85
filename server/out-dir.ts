// The CLI's --out folder, made and checked before any work starts, with one sentence when it
// cannot be used. Levels are created one at a time: Node's recursive mkdir loops forever on
// paths like /proc/nope (mkdir there keeps answering ENOENT under an existing parent).
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export class OutDirError extends Error {}

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  ENOSPC: "the disk is full",
  ENOENT: "this location cannot hold folders",
  ENOTDIR: "a part of the path is a file, not a folder",
  EEXIST: "a file of that name is in the way",
};

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? "";
  return REASONS[code] ?? (e as Error).message;
}

function isDir(path: string): boolean | null {
  try {
    return statSync(path).isDirectory();
  } catch (e) {
    // Not there (or under a file, which the walk up then finds).
    if (["ENOENT", "ENOTDIR"].includes((e as NodeJS.ErrnoException).code ?? "")) return null;
    throw new OutDirError(`cannot read ${path}: ${reason(e)}`);
  }
}

/** Makes `dir` (and missing parents) and checks it is a writable folder; returns its absolute path. */
export function ensureOutDir(dir: string): string {
  const target = resolve(dir);
  const missing: string[] = [];
  let at = target;
  for (;;) {
    const state = isDir(at);
    if (state === true) break;
    if (state === false) throw new OutDirError(`${at} is a file, not a folder`);
    missing.unshift(at);
    if (dirname(at) === at) break;
    at = dirname(at);
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (e) {
      throw new OutDirError(`cannot create ${level}: ${reason(e)}`);
    }
  }
  // A real file, made and removed: W_OK says yes for root in /proc, where no file can be made.
  const probe = join(target, `.phototype-write-test-${process.pid}`);
  try {
    writeFileSync(probe, "");
    rmSync(probe);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "this location cannot hold files" : reason(e);
    throw new OutDirError(`cannot write files in ${target}: ${why}`);
  }
  return target;
}
