// A real server in a child process (`phototype serve --port 0`, from source through tsx), for tests
// and scripts that must watch it from outside: whether it survives, its log, its memory after GC.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Reachable } from "./helpers.ts";

const ROOT = resolve(import.meta.dirname, "../..");

export interface ChildServer extends Reachable {
  child: ChildProcess;
  /** Everything it wrote to stderr (its log) so far. */
  log(): string;
  /** Whether it is still running. */
  alive(): boolean;
  /** The server's memory after two full garbage collections: rss, heap, external, arrayBuffers. */
  memoryAfterGc(): Promise<Record<"rss" | "heap" | "external" | "arrayBuffers", number>>;
  stop(): Promise<void>;
}

export async function startChildServer(args: string[] = [], env: Record<string, string> = {}): Promise<ChildServer> {
  const configDir = mkdtempSync(join(tmpdir(), "phototype-child-"));
  const child = spawn(
    process.execPath,
    ["--expose-gc", "--import", "tsx", "--import", "./test/server/gc-on-signal.ts", "server/cli.ts", "serve", "--port", "0", ...args],
    { cwd: ROOT, env: { ...process.env, PHOTOTYPE_CONFIG_DIR: configDir, ...env }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  let exited = false;
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (log += d));
  child.on("exit", () => (exited = true));
  const started = await new Promise<{ url: string; secret: string }>((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 120 s:\n${log}`)), 120_000);
    const look = () => {
      const url = /listening on (http:\/\/\S+)/.exec(log)?.[1];
      const secret = /pairing code for the Figma plugin: (\S+)/.exec(log)?.[1];
      if (url && secret) {
        clearTimeout(timer);
        child.stderr!.off("data", look);
        resolveStart({ url, secret });
      }
    };
    child.stderr!.on("data", look);
    child.once("exit", (code) => reject(new Error(`server exited (${code}) before listening:\n${log}`)));
  });
  const memoryAfterGc = async () => {
    const before = log.length;
    child.kill("SIGUSR2");
    for (let i = 0; i < 200; i++) {
      const m = /rss-after-gc (\d+) heap (\d+) external (\d+) arrayBuffers (\d+)/.exec(log.slice(before));
      if (m) return { rss: Number(m[1]), heap: Number(m[2]), external: Number(m[3]), arrayBuffers: Number(m[4]) };
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("the server did not report its memory");
  };
  return {
    child,
    url: started.url,
    wsUrl: `${started.url.replace(/^http/, "ws")}/ws`,
    secret: started.secret,
    log: () => log,
    alive: () => !exited,
    memoryAfterGc,
    async stop() {
      if (exited) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await gone;
    },
  };
}
