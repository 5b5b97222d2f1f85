// The engine: loaded packs with their open sessions, the execution provider and the queue.
// Both the WebSocket and HTTP routes validate requests here and run them through one queue.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { chooseDefaultPack, loadPacks, refusePack, type PackRegistry } from "./pack/registry.ts";
import { generate, type GenerateOutput, type VisibleStage } from "./pipeline/generate.ts";
import { firstInvalidClassId, validClassIds } from "./pipeline/mask.ts";
import {
  chooseProvider,
  closePackRuntime,
  defaultSessionSettings,
  openPackRuntime,
  type PackRuntime,
  type ProviderChoice,
  type ProviderPreference,
  type SessionSettings,
} from "./pipeline/runtime.ts";
import type { ErrorCode, PackInfo, Parsed } from "./protocol.ts";
import { RequestQueue, type QueueOptions } from "./queue.ts";
import type { Logger } from "./log.ts";

export interface EngineOptions {
  packsDir: string;
  defaultPack?: string;
  provider?: ProviderPreference;
  queue?: Partial<QueueOptions>;
  session?: Partial<SessionSettings>;
  /** Run each pack once at start so the first request does not pay for JIT and kernel setup. */
  warmup?: boolean;
  log: Logger;
}

/** A validated request, ready for the queue. */
export interface Job {
  requestId: string;
  pack: string;
  mask: Uint8Array;
  seed: number;
  variations: number;
  truncation?: number;
  onStage?: (stage: VisibleStage) => void;
}

export interface JobRequest {
  requestId: string;
  /** Pack name; the default pack when absent. */
  pack?: string;
  width: number;
  height: number;
  mask: Uint8Array;
  seed: number;
  variations: number;
  truncation?: number;
}

export type JobResult = GenerateOutput & { pack: string };

export interface Engine {
  registry: PackRegistry;
  runtimes: Map<string, PackRuntime>;
  provider: ProviderChoice;
  defaultPack: string | null;
  queue: RequestQueue<Job, JobResult>;
  packInfos(): PackInfo[];
  /** Checks pack, size and class ids; never throws. */
  prepare(request: JobRequest): Parsed<Job>;
  close(): Promise<void>;
}

/** Concurrent runs a provider does well: one on CPU (each run uses every core), two on a GPU. */
export function concurrencyFor(provider: ProviderChoice["provider"]): number {
  return provider === "cuda" ? 2 : 1;
}

/** "0 to 18" for contiguous ids, else the list. */
function describeIds(rt: PackRuntime): string {
  const ids = rt.pack.manifest.classes.map((c) => c.id).sort((a, b) => a - b);
  const contiguous = ids.every((v, i) => v === ids[0] + i);
  return contiguous ? `${ids[0]} to ${ids[ids.length - 1]}` : ids.join(", ");
}

function fail(code: ErrorCode, message: string, id?: string): Parsed<never> {
  return { ok: false, code, message, id };
}

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const { log } = options;
  const registry = loadPacks(options.packsDir, { log: (line) => log.warn(line) });
  const first = [...registry.packs.values()][0];
  const provider: ProviderChoice = first
    ? await chooseProvider(options.provider ?? "auto", join(first.dir, first.manifest.networks.mapping.file))
    : { provider: "cpu", note: "no packs loaded" };
  const settings = { ...defaultSessionSettings(provider.provider), ...options.session };

  const runtimes = new Map<string, PackRuntime>();
  for (const pack of [...registry.packs.values()]) {
    try {
      const rt = await openPackRuntime(pack, settings);
      if (options.warmup !== false) {
        const R = pack.manifest.resolution;
        await generate(rt, { mask: new Uint8Array(R * R).fill(pack.manifest.classes[0].id), seed: 0, variations: 1 });
      }
      runtimes.set(pack.name, rt);
    } catch (e) {
      refusePack(registry, pack.name, `sessions did not open: ${(e as Error).message}`, (line) => log.warn(line));
    }
  }
  const chosen = chooseDefaultPack(runtimes.keys(), options.defaultPack);
  if (chosen.note) log.warn(chosen.note);

  const classChecks = new Map([...runtimes].map(([name, rt]) => [name, validClassIds(rt.pack.manifest.classes)]));

  const worker = async (job: Job, signal: AbortSignal): Promise<JobResult> => {
    const rt = runtimes.get(job.pack);
    if (!rt) throw new Error(`pack ${job.pack} is not loaded`);
    const started = performance.now();
    const out = await generate(rt, job, { signal, onStage: (stage) => job.onStage?.(stage) });
    const bytes = out.images.reduce((a, i) => a + i.png.length, 0);
    log.info(
      `generated ${job.requestId}: pack=${job.pack} n=${job.variations} mask=${job.mask.length}B ` +
        `png=${bytes}B in ${(performance.now() - started).toFixed(1)} ms`,
    );
    return { ...out, pack: job.pack };
  };
  const queue = new RequestQueue<Job, JobResult>(worker, { concurrency: concurrencyFor(provider.provider), ...options.queue });

  const packInfos = (): PackInfo[] =>
    [...runtimes.values()].map(({ pack: { manifest: m } }) => ({
      name: m.name,
      title: m.title,
      version: m.version,
      quality: m.quality,
      license: m.license.name,
      resolution: m.resolution,
      conditions: m.conditions.map((c) => c.kind),
      classes: m.classes.map((c) => ({ id: c.id, name: c.name, label: c.label, color: c.color })),
      truncation: m.truncation,
    }));

  const prepare = (r: JobRequest): Parsed<Job> => {
    const id = r.requestId;
    const name = r.pack ?? chosen.name;
    const rt = name ? runtimes.get(name) : undefined;
    if (!name || !rt) {
      const names = [...runtimes.keys()].join(", ") || "none";
      return fail("unknown_pack", `There is no pack named ${JSON.stringify(name ?? "")} on this server (packs: ${names}).`, id);
    }
    const R = rt.pack.manifest.resolution;
    if (r.width !== R || r.height !== R || r.mask.length !== R * R) {
      const got = r.mask.length === r.width * r.height ? `${r.width}x${r.height}` : `${r.mask.length} bytes`;
      return fail("bad_mask_size", `Pack ${name} needs a ${R}x${R} mask (${R * R} bytes, one class id a pixel); got ${got}.`, id);
    }
    const bad = firstInvalidClassId(r.mask, classChecks.get(name)!);
    if (bad >= 0) {
      return fail(
        "bad_class_id",
        `Pixel (${bad % R}, ${Math.floor(bad / R)}) has class id ${r.mask[bad]}, which pack ${name} does not have (its ids: ${describeIds(rt)}).`,
        id,
      );
    }
    return {
      ok: true,
      value: { requestId: id, pack: name, mask: r.mask, seed: r.seed, variations: r.variations, truncation: r.truncation },
    };
  };

  const close = async () => {
    queue.close();
    await Promise.all([...runtimes.values()].map(closePackRuntime));
  };

  log.info(
    `execution provider: ${provider.provider}${provider.note ? ` (${provider.note})` : ""}; ` +
      `${settings.intraOpNumThreads} intra-op threads, graph optimisation ${settings.graphOptimizationLevel}, ` +
      `concurrency ${queue.options.concurrency}`,
  );
  log.info(`packs: ${[...runtimes.keys()].join(", ") || "none"} (default ${chosen.name ?? "none"}) from ${registry.root}`);
  return { registry, runtimes, provider, defaultPack: chosen.name, queue, packInfos, prepare, close };
}
