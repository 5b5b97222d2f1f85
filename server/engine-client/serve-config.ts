// `phototype engine`: the Ray Serve config that serves packs on an engine cluster, made from
// pack.json so no pack needs hand work. One Serve application per pack (engine/app.py `build`),
// at <route prefix>/<pack>; replicas, CPUs/GPUs per replica and batching from the options.
// Deploy it with `serve run FILE` (one machine) or `serve deploy FILE` (a cluster): docs/SCALING.md.
import { isAbsolute, relative, resolve } from "node:path";
import type { LoadedPack } from "../pack/registry.ts";

export interface ServeConfigOptions {
  packs: LoadedPack[];
  /** This checkout: engine/ and the packs are found under it. */
  root: string;
  /** Where the checkout lives on the engine's machines (the same path on each); default `root`. */
  engineRoot?: string;
  host: string;
  port: number;
  /** "/" or "/something": packs at <prefix>/<pack>. */
  routePrefix: string;
  replicas: number | { min: number; max: number };
  cpusPerReplica: number;
  gpusPerReplica: number;
  /** ONNX Runtime intra-op threads a replica; default: its CPUs, at least 1. */
  threads?: number;
  provider: "auto" | "cpu" | "cuda";
  /** @serve.batch: calls a batch may hold, and how long the first waits for others. */
  maxBatchSize: number;
  batchWaitMs: number;
  /** Rows one run may hold (calls are concatenated along the batch axis up to this). */
  maxRows: number;
  token?: string;
  /** Test-only: each call waits this long first (a slow engine, test/server/engine.test.ts). */
  testDelayMs?: number;
}

const q = (s: string) => JSON.stringify(s); // a JSON string is a YAML double-quoted scalar

/** A path of this checkout as the engine's machines see it. */
function onEngine(path: string, o: ServeConfigOptions): string {
  const rel = relative(o.root, path);
  if (!o.engineRoot || rel.startsWith("..") || isAbsolute(rel)) return resolve(path);
  return resolve(o.engineRoot, rel);
}

/**
 * The config for one group of options, or several (say, the packs at / and a copy at /slow): a
 * Serve config is the whole set of applications, so deploying another one replaces them all.
 * The HTTP host and port are the first group's.
 */
export function serveConfig(groups: ServeConfigOptions | ServeConfigOptions[]): string {
  const all = Array.isArray(groups) ? groups : [groups];
  const first = all[0];
  const lines = [
    `# Made by \`npx phototype engine\` from pack.json (${[...new Set(all.flatMap((g) => g.packs.map((p) => p.name)))].join(", ")}); docs/SCALING.md.`,
    "# Every engine machine needs this checkout at the path below (engine/ and the packs).",
    "proxy_location: EveryNode",
    "http_options:",
    `  host: ${q(first.host)}`,
    `  port: ${first.port}`,
    "applications:",
  ];
  for (const o of all) lines.push(...applications(o));
  return lines.join("\n") + "\n";
}

function applications(o: ServeConfigOptions): string[] {
  const prefix = o.routePrefix.replace(/\/+$/, "");
  const code = onEngine(resolve(o.root, "engine"), o);
  const threads = o.threads ?? Math.max(1, Math.floor(o.cpusPerReplica));
  const lines: string[] = [];
  for (const pack of o.packs) {
    const args: [string, string | number][] = [
      ["pack_dir", q(onEngine(pack.dir, o))],
      ["threads", threads],
      ["provider", q(o.provider)],
      ["max_batch_size", o.maxBatchSize],
      ["batch_wait_ms", o.batchWaitMs],
      ["max_rows", o.maxRows],
    ];
    if (o.token) args.push(["token", q(o.token)]);
    if (o.testDelayMs) args.push(["test_delay_ms", o.testDelayMs]);
    const scale =
      typeof o.replicas === "number"
        ? [`        num_replicas: ${o.replicas}`]
        : [
            "        autoscaling_config:",
            `          min_replicas: ${o.replicas.min}`,
            `          max_replicas: ${o.replicas.max}`,
            // A replica is "busy" at one full engine batch of calls waiting or running.
            `          target_ongoing_requests: ${o.maxBatchSize}`,
          ];
    lines.push(
      `  - name: ${q(`${prefix.replace(/^\//, "").replace(/\//g, "-")}${prefix ? "-" : ""}${pack.name}`)}`,
      `    route_prefix: ${q(`${prefix}/${pack.name}`)}`,
      `    import_path: "app:build"`,
      "    runtime_env:",
      `      working_dir: ${q(`local://${code}`)}`,
      "    args:",
      ...args.map(([k, v]) => `      ${k}: ${v}`),
      "    deployments:",
      `      - name: "networks"`,
      ...scale,
      // Enough calls in flight per replica for @serve.batch to fill its batches.
      `        max_ongoing_requests: ${Math.max(16, 4 * o.maxBatchSize)}`,
      "        ray_actor_options:",
      `          num_cpus: ${o.cpusPerReplica}`,
      `          num_gpus: ${o.gpusPerReplica}`,
    );
  }
  return lines;
}
