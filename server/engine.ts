// The engine: loaded packs with their open sessions, the execution provider and the queue.
// Both the WebSocket and HTTP routes validate requests here (prepare.ts) and run them through one queue.
// With `remote` (serve --engine URL) the packs' networks run on a serving engine instead of
// in-process sessions (engine-client/); everything else here stays the same.
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { encode as encodePng } from "fast-png";
import { performance } from "node:perf_hooks";
import { packInfo } from "./pack/info.ts";
import { chooseDefaultPack, loadPacks, refusePack, type PackRegistry } from "./pack/registry.ts";
import { createPreparer } from "./prepare.ts";
import { generate, GenerationAborted, type VisibleStage } from "./pipeline/generate.ts";
import { asDrawnRequest, candidateCount, generateBatch } from "./pipeline/batch.ts";
import type { GenerateInput } from "./pipeline/request.ts";
import { invertPhoto } from "./pipeline/invert.ts";
import { createInferencePool } from "./inference-pool.ts";
import { createImageDecoder, type DecoderOptions, type ImageDecoder } from "./decoder.ts";
import { EngineClient } from "./engine-client/client.ts";
import { engineProblem, engineStatus, EngineRunner, type RemoteEngineStatus } from "./engine-client/runner.ts";
import { isEngineFailure } from "./failure.ts";
import { allAborted, withJobSignal } from "./pipeline/hooks.ts";
import { runNetwork } from "./pipeline/stages.ts";
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
import type { PackInfo, Parsed } from "../protocol/index.ts";
import type { InvertJobRequest, Job, JobRequest, JobResult } from "./jobs.ts";
import { RequestQueue, type Batching, type MemberResult, type QueueOptions } from "./queue.ts";
import type { Logger } from "./log.ts";

export interface EngineOptions {
  packsDir: string;
  defaultPack?: string;
  provider?: ProviderPreference;
  queue?: Partial<QueueOptions>;
  session?: Partial<SessionSettings>;
  /** Run each pack once at start so the first request does not pay for JIT and kernel setup. */
  warmup?: boolean;
  /** Uploaded images are decoded in worker threads with this time bound and queue. */
  decoder?: DecoderOptions;
  /** Run the networks on a serving engine (docs/SCALING.md) instead of in-process sessions. */
  remote?: RemoteEngineOptions;
  log: Logger;
}

export interface RemoteEngineOptions {
  /** The engine's base URL (a pack's networks at <url>/<pack>/<network>). */
  url: string;
  /** Longest wait for one network run, ms (default 30 s); the job's own timeout bounds it too. */
  timeoutMs?: number;
  token?: string;
}

/** Concurrent runs when the networks run on an engine: this process only waits and encodes. */
export const REMOTE_CONCURRENCY = 4;

export interface Engine {
  registry: PackRegistry;
  runtimes: Map<string, PackRuntime>;
  provider: ProviderChoice;
  /** serve --engine: where the networks run, and a check of it for /health; null in-process. */
  remote: { url: string; status(): Promise<RemoteEngineStatus> } | null;
  defaultPack: string | null;
  queue: RequestQueue<Job, JobResult>;
  /** Uploaded PNGs -> masks and photos, off the event loop (decoder.ts). */
  decoder: ImageDecoder;
  packInfos(): PackInfo[];
  /**
   * Checks pack, sizes, class ids and photos; never throws or rejects. Answers at once unless a
   * photo must be decoded (in a worker), so requests without photos keep their message order.
   */
  prepare(request: JobRequest): Parsed<Job> | Promise<Parsed<Job>>;
  prepareInvert(request: InvertJobRequest): Promise<Parsed<Job>>;
  close(): Promise<void>;
}

/** Concurrent runs a provider does well: one on CPU (each run uses every core), two on a GPU. */
export function concurrencyFor(provider: ProviderChoice["provider"]): number {
  return provider === "cuda" ? 2 : 1;
}

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const { log } = options;
  const decoder = createImageDecoder(options.decoder);
  const registry = loadPacks(options.packsDir, { log: (line) => log.warn(line) });
  const first = [...registry.packs.values()][0];
  const client = options.remote ? new EngineClient({ ...options.remote, timeoutMs: options.remote.timeoutMs ?? 30_000, onRetry: (line) => log.warn(line) }) : null;
  // On an engine, the engine picks its own provider (engine/pack_sessions.py); here nothing runs.
  const provider: ProviderChoice = client
    ? { provider: "cpu" }
    : first
      ? await chooseProvider(options.provider ?? "auto", join(first.dir, first.manifest.networks.mapping.file))
      : { provider: "cpu", note: "no packs loaded" };
  const settings = { ...defaultSessionSettings(provider.provider), ...options.session };
  // In-process, the networks run in a worker thread so that no run stalls the event loop.
  const inference = client ? null : await createInferencePool();

  const runtimes = new Map<string, PackRuntime>();
  for (const pack of [...registry.packs.values()]) {
    try {
      let warm = options.warmup !== false;
      let rt: PackRuntime;
      if (client) {
        rt = { pack, settings, runner: new EngineRunner(client, pack) };
        // Not fatal: the engine may come up (or be updated) after this server; until then
        // requests for the pack fail with engine_unavailable, and /health says why.
        const problem = await engineProblem(client, pack);
        if (problem) log.warn(`pack ${pack.name}: the engine at ${client.url} cannot serve it yet (${problem}); its requests fail with engine_unavailable until it can`);
        warm &&= !problem;
      } else {
        rt = await openPackRuntime(pack, settings, inference!);
      }
      if (warm) {
        const R = pack.manifest.resolution;
        await (async () => {
          await generate(rt, { mask: new Uint8Array(R * R).fill(pack.manifest.classes[0].id), seed: 0, variations: 1 });
          // The photo networks too, so a first "edit this photo" is not slower than a first generation.
          for (const key of ["encoder", "parser"]) {
            if (rt.runner.has(key)) await runNetwork(rt, key, [new ort.Tensor("float32", new Float32Array(3 * R * R), [1, 3, R, R])]);
          }
        })().catch((e) => {
          if (!client) throw e;
          log.warn(`pack ${pack.name}: warm-up on the engine failed (${(e as Error).message.split("\n")[0]})`);
        });
      }
      runtimes.set(pack.name, rt);
    } catch (e) {
      refusePack(registry, pack.name, `sessions did not open: ${(e as Error).message}`, (line) => log.warn(line));
    }
  }
  const chosen = chooseDefaultPack(runtimes.keys(), options.defaultPack);
  if (chosen.note) log.warn(chosen.note);

  // Start the decode worker now, so the first photo does not wait for a thread to load.
  if (options.warmup !== false) {
    const onePixel = encodePng({ width: 1, height: 1, data: Uint8Array.of(0), channels: 1, depth: 8 });
    await decoder.mask(onePixel, [{ id: 0, name: "background", label: "Background", color: "#000000" }], 1);
  }

  const worker = async (job: Job, signal: AbortSignal): Promise<JobResult> => {
    const rt = runtimes.get(job.pack);
    if (!rt) throw new Error(`pack ${job.pack} is not loaded`);
    const started = performance.now();
    const hooks = { signal, onStage: (stage: VisibleStage) => job.onStage?.(stage) };
    const decode: Record<string, number> = job.decodeMs !== undefined ? { decode: Math.round(job.decodeMs * 100) / 100 } : {};
    if (job.task.kind === "invert") {
      const photo = job.task.photo;
      const out = await withJobSignal(signal, () => invertPhoto(rt, photo, hooks));
      log.info(`inverted ${job.requestId}: pack=${job.pack} polygons=${out.polygons.length} in ${(performance.now() - started).toFixed(1)} ms`);
      return { kind: "invert", ...out, timings: { ...decode, ...out.timings }, pack: job.pack };
    }
    const input = job.task.input;
    const out = await withJobSignal(signal, () => generate(rt, input, hooks));
    const bytes = out.images.reduce((a, i) => a + i.png.length, 0);
    const extras = [input.source ? "source=photo" : "", input.restyle ? `restyle=${input.restyle.classes.join("+")}` : "", input.fit ? `fit=${input.fit}` : ""].filter(Boolean).join(" ");
    log.info(
      `generated ${job.requestId}: pack=${job.pack} kind=${input.condition?.kind ?? "mask"} n=${input.variations}${extras ? " " + extras : ""} ` +
        `png=${bytes}B in ${(performance.now() - started).toFixed(1)} ms`,
    );
    return { kind: "generate", ...out, timings: { ...decode, ...out.timings }, pack: job.pack };
  };
  // Waiting drawn-layout requests of one pack share a run (batch.ts); if that run fails, each runs
  // alone, so one bad request cannot fail the others.
  const batching: Batching<Job, JobResult> = {
    key: (job) => (job.task.kind === "generate" && asDrawnRequest(job.task.input) ? `generate\u0000${job.pack}` : null),
    size: (job) => (job.task.kind === "generate" ? job.task.input.variations * (job.task.input.fit ?? 1) : 1),
    run: async (jobs, signals) => {
      const rt = runtimes.get(jobs[0].pack);
      const started = performance.now();
      try {
        if (!rt) throw new Error(`pack ${jobs[0].pack} is not loaded`);
        const inputs = jobs.map((j) => asDrawnRequest((j.task as { input: GenerateInput }).input)!);
        const outs = await withJobSignal(allAborted(signals), () =>
          generateBatch(
            rt,
            inputs,
            jobs.map((j, i) => ({ signal: signals[i], onStage: (stage: VisibleStage) => j.onStage?.(stage) })),
          ),
        );
        const images = inputs.reduce((a, r) => a + candidateCount(r), 0);
        log.info(`generated ${jobs.map((j) => j.requestId).join(", ")} in one run: pack=${jobs[0].pack} n=${images} in ${(performance.now() - started).toFixed(1)} ms`);
        return outs.map((out, i): MemberResult<JobResult> => {
          const decode: Record<string, number> = jobs[i].decodeMs !== undefined ? { decode: Math.round(jobs[i].decodeMs! * 100) / 100 } : {};
          return { ok: true, result: { kind: "generate", ...out, timings: { ...decode, ...out.timings }, pack: jobs[i].pack } };
        });
      } catch (e) {
        // The engine failing is not one member's fault: running them one by one would only wait longer.
        if (isEngineFailure(e)) return jobs.map((): MemberResult<JobResult> => ({ ok: false, error: e }));
        if (!(e instanceof GenerationAborted)) log.warn(`batched run of ${jobs.length} failed (${(e as Error).message}); running them one by one`);
        const results: MemberResult<JobResult>[] = [];
        for (let i = 0; i < jobs.length; i++) {
          try {
            if (signals[i].aborted) throw new GenerationAborted();
            results.push({ ok: true, result: await worker(jobs[i], signals[i]) });
          } catch (error) {
            results.push({ ok: false, error });
          }
        }
        return results;
      }
    },
  };
  const concurrency = client ? REMOTE_CONCURRENCY : concurrencyFor(provider.provider);
  const queue = new RequestQueue<Job, JobResult>(worker, { concurrency, ...options.queue }, batching);

  const packInfos = (): PackInfo[] => [...runtimes.values()].map(packInfo);
  const { prepare, prepareInvert } = createPreparer(runtimes, chosen.name, decoder);

  const close = async () => {
    queue.close();
    await Promise.all([...runtimes.values()].map(closePackRuntime));
    await inference?.close();
    await decoder.close();
  };

  const remote = client && { url: client.url, status: () => engineStatus(client, [...runtimes.values()].map((rt) => rt.pack)) };

  if (provider.note) log.info(`${provider.note}.`);
  log.info(
    client
      ? `networks run on the engine at ${client.url} (${client.timeoutMs / 1000} s a step at most); ` +
          `concurrency ${queue.options.concurrency}, batches of up to ${queue.options.maxBatch} image(s)`
      : `execution provider: ${provider.provider}; ` +
          `${settings.intraOpNumThreads} intra-op threads, graph optimisation ${settings.graphOptimizationLevel}, ` +
          `concurrency ${queue.options.concurrency}, batches of up to ${queue.options.maxBatch} image(s)`,
  );
  log.info(`packs: ${[...runtimes.keys()].join(", ") || "none"} (default ${chosen.name ?? "none"}) from ${registry.root}`);
  return { registry, runtimes, provider, remote, defaultPack: chosen.name, queue, decoder, packInfos, prepare, prepareInvert, close };
}
