// A real Ray Serve engine on loopback for the engine tests and the benchmark: a one-node Ray
// cluster (`ray start --head --block`, own temp folder, free ports, a fresh cluster token) from
// .venv-engine, with Serve applications deployed from `phototype engine` configs. stop() ends the
// cluster and every process it started, found by process id (/proc), so nothing outlives a test.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadPacks } from "../../server/pack/registry.ts";
import { serveConfig, type ServeConfigOptions } from "../../server/engine-client/serve-config.ts";

export const ROOT = resolve(import.meta.dirname, "../..");
export const ENGINE_BIN = join(ROOT, ".venv-engine", "bin");

/** Why the engine tests cannot run here, or null when .venv-engine is installed. */
export function engineMissing(): string | null {
  return existsSync(join(ENGINE_BIN, "serve")) && existsSync(join(ENGINE_BIN, "ray"))
    ? null
    : ".venv-engine is not installed (bash scripts/test-all.sh makes it from engine/requirements.txt)";
}

/** A free TCP port on loopback (above Ray's worker port range, 10002-19999). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/** One Serve config to deploy: `phototype engine` options (packs, root, port are filled in). */
export type AppOptions = Partial<Omit<ServeConfigOptions, "packs" | "root" | "port" | "host">> & { packs?: string[] };

export interface LocalEngine {
  /** The engine's base URL (the Serve HTTP proxy). */
  url: string;
  /** Replica processes of one Serve application (its name: "<prefix>-<pack>" or "<pack>"). */
  replicaPids(app: string): number[];
  /** Every process of the cluster still running. */
  pids(): number[];
  /** Ends the cluster at once (SIGKILL), as a crash would. */
  kill(): void;
  /** Ends the cluster and removes its temp folder; safe to call twice. */
  stop(): Promise<void>;
  log(): string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

/** Processes under `root` (not itself), by walking /proc. */
function descendants(root: number): number[] {
  const all = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
  const parent = new Map(all.map((p) => [p, parentOf(p)]));
  const out: number[] = [];
  const under = (p: number) => {
    for (let q: number | null | undefined = parent.get(p), hops = 0; q && hops < 64; q = parent.get(q), hops++) if (q === root) return true;
    return false;
  };
  for (const p of all) if (under(p)) out.push(p);
  return out;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((ok) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      ok({ code, out });
    });
  });
}

/**
 * Starts a one-node cluster with `cpus` logical CPUs (Ray's bookkeeping, not a limit) and deploys
 * one Serve config with a group of applications per entry of `apps`; resolves when every app
 * answers for its packs.
 */
export async function startLocalEngine(apps: AppOptions[], cpus = 4, timeoutMs = 240_000): Promise<LocalEngine> {
  const missing = engineMissing();
  if (missing) throw new Error(missing);
  const until = Date.now() + timeoutMs;
  // Ray's socket paths must stay short: /tmp, not a long TMPDIR.
  const temp = mkdtempSync(join(existsSync("/tmp") ? "/tmp" : tmpdir(), "pt-ray-"));
  const [gcs, client, agent, http] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env = {
    ...process.env,
    RAY_TMPDIR: temp,
    // A token of this cluster's own (never written to ~/.ray), and no usage reporting.
    RAY_AUTH_MODE: "token",
    RAY_AUTH_TOKEN: randomBytes(16).toString("hex"),
    RAY_USAGE_STATS_ENABLED: "0",
  };
  const logFile = join(temp, "head.log");
  let headLog = "";
  const head: ChildProcess = spawn(
    join(ENGINE_BIN, "ray"),
    ["start", "--head", "--block", "--port", String(gcs), "--node-ip-address", "127.0.0.1", "--include-dashboard=false", "--num-cpus", String(cpus),
      "--temp-dir", temp, "--ray-client-server-port", String(client), "--dashboard-agent-listen-port", String(agent), "--disable-usage-stats"],
    { env, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  head.stdout!.on("data", (d) => (headLog += d));
  head.stderr!.on("data", (d) => (headLog += d));
  let exited = false;
  head.once("exit", () => (exited = true));
  const known = new Set<number>([head.pid!]);
  const track = () => {
    if (!exited) for (const p of descendants(head.pid!)) known.add(p);
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const killAll = (signal: NodeJS.Signals) => {
    track();
    for (const p of known) if (alive(p)) try { process.kill(p, signal); } catch { /* gone */ }
  };
  let stopped = false;
  const engine: LocalEngine = {
    url: `http://127.0.0.1:${http}`,
    replicaPids: (app) => descendants(head.pid!).filter((p) => cmdline(p).startsWith(`ray::ServeReplica:${app}:`)),
    pids: () => {
      track();
      return [...known].filter(alive);
    },
    kill: () => killAll("SIGKILL"),
    log: () => headLog,
    async stop() {
      if (stopped) return;
      stopped = true;
      track();
      killAll("SIGTERM");
      for (let i = 0; i < 100 && [...known].some(alive); i++) await sleep(100);
      killAll("SIGKILL");
      for (let i = 0; i < 50 && [...known].some(alive); i++) await sleep(100);
      writeFileSync(logFile, headLog);
      if (!process.env.PHOTOTYPE_KEEP_RAY) rmSync(temp, { recursive: true, force: true });
    },
  };
  try {
    while (!/Ray runtime started/.test(headLog)) {
      if (exited || Date.now() > until) throw new Error(`ray start did not start:\n${headLog.slice(-3000)}`);
      await sleep(200);
    }
    const registry = loadPacks(join(ROOT, "models/packs"), { log: () => {} });
    const routes: string[] = [];
    const groups = apps.map((app): ServeConfigOptions => {
      const packs = (app.packs ?? [...registry.packs.keys()]).map((n) => registry.packs.get(n)!);
      const prefix = (app.routePrefix ?? "/").replace(/\/+$/, "");
      routes.push(...packs.map((p) => `${prefix}/${p.name}/`));
      return {
        root: ROOT,
        host: "127.0.0.1",
        routePrefix: "/",
        replicas: 1,
        cpusPerReplica: 1,
        gpusPerReplica: 0,
        provider: "cpu" as const,
        maxBatchSize: 8,
        batchWaitMs: 0,
        maxRows: 64,
        ...app,
        packs,
        port: http,
      };
    });
    const file = join(temp, "serve.yaml");
    writeFileSync(file, serveConfig(groups));
    const deployed = await run(join(ENGINE_BIN, "serve"), ["run", "--address", `127.0.0.1:${gcs}`, "--non-blocking", file], env, Math.max(10_000, until - Date.now()));
    if (deployed.code !== 0) throw new Error(`serve run ${file} failed (${deployed.code}):\n${deployed.out.slice(-3000)}`);
    track();
    for (const route of routes) {
      for (;;) {
        // 401: the app is up and asks for its token (phototype engine --token).
        const ok = await fetch(`${engine.url}${route}`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok || r.status === 401, () => false);
        if (ok) break;
        if (exited || Date.now() > until) throw new Error(`the engine did not serve ${route} in time:\n${headLog.slice(-3000)}`);
        await sleep(300);
      }
    }
    track();
    return engine;
  } catch (e) {
    await engine.stop();
    throw e;
  }
}
