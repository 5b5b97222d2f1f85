// ONNX Runtime sessions for a pack: opened once, reused by every request, closed on shutdown.
// A pack served by a remote engine gets its runner from engine-client/ instead (runner.ts).
import { availableParallelism } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import type { LoadedPack } from "../pack/registry.ts";
import type { NetworkFile } from "../pack/schema.ts";
import { SessionRunner, type NetworkRunner } from "./runner.ts";

export type ProviderName = "cpu" | "cuda";
export type ProviderPreference = ProviderName | "auto";

export interface SessionSettings {
  provider: ProviderName;
  graphOptimizationLevel: "disabled" | "basic" | "extended" | "all";
  /** Threads one operator may use; the machine's cores by default. */
  intraOpNumThreads: number;
  /**
   * Whether idle intra-op threads busy-wait for the next operator. Off by default: on a small
   * CPU the spinning threads steal the cores the main thread needs between runs (measured:
   * p50 85 ms with spinning, 22 ms without, faces-64 on 2 cores; see docs/ARCHITECTURE.md).
   */
  allowSpinning: boolean;
}

export function defaultSessionSettings(provider: ProviderName): SessionSettings {
  return { provider, graphOptimizationLevel: "all", intraOpNumThreads: availableParallelism(), allowSpinning: false };
}

export function sessionOptions(s: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [s.provider],
    graphOptimizationLevel: s.graphOptimizationLevel,
    intraOpNumThreads: s.intraOpNumThreads,
    // The networks are chains: one operator at a time, each using all intra-op threads.
    executionMode: "sequential",
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: s.allowSpinning ? "1" : "0" } } },
  };
}

export interface ProviderChoice {
  provider: ProviderName;
  /** Why CUDA is not used, when it was wanted or tried. */
  note?: string;
}

/**
 * CUDA where it loads, CPU otherwise. Loading is the test: a CPU-only onnxruntime-node build
 * (the default npm install) fails to load the CUDA provider library, and we fall back.
 */
export async function chooseProvider(preference: ProviderPreference, probeModel: string): Promise<ProviderChoice> {
  if (preference === "cpu") return { provider: "cpu" };
  // A CPU-only build logs the failed library load at error level before throwing; the note
  // below says it in one line instead.
  const logLevel = ort.env.logLevel;
  ort.env.logLevel = "fatal";
  try {
    const session = await ort.InferenceSession.create(probeModel, { executionProviders: ["cuda"], logSeverityLevel: 4 });
    await session.release();
    return { provider: "cuda" };
  } catch (e) {
    const why = (e as Error).message.split("\n")[0].slice(0, 160);
    if (preference === "cuda") throw new Error(`CUDA execution provider did not load: ${why}`);
    // The usual case on a laptop: the npm package ships the CPU build only. Say so plainly.
    const missing = /shared library|providers_cuda/i.test(why);
    return {
      provider: "cpu",
      note: missing
        ? "running on the CPU: the GPU (CUDA) build of ONNX Runtime is not installed. On a Linux machine with an NVIDIA GPU, run `npm run install:cuda` and restart"
        : `running on the CPU: CUDA did not start (${why})`,
    };
  } finally {
    ort.env.logLevel = logLevel;
  }
}

export interface PackRuntime {
  pack: LoadedPack;
  settings: SessionSettings;
  /** Runs the pack's networks: in-process sessions, or a remote engine. */
  runner: NetworkRunner;
}

/** Where sessions can be opened off this thread (inference-pool.ts); the server passes one. */
export interface SessionHost {
  open(pack: LoadedPack, options: ort.InferenceSession.SessionOptions): Promise<NetworkRunner>;
}

/** A pack's networks as pack.json lists them: enough to open and check their sessions. */
export type NetworkFiles = Record<string, Pick<NetworkFile, "file" | "inputs" | "outputs">>;

/**
 * A session per network, each checked against pack.json's inputs and outputs; if one fails, those
 * already open are released and the error says which network and why.
 */
export async function openSessions(dir: string, networks: NetworkFiles, options: ort.InferenceSession.SessionOptions): Promise<Map<string, ort.InferenceSession>> {
  const sessions = new Map<string, ort.InferenceSession>();
  try {
    for (const [key, net] of Object.entries(networks)) {
      const session = await ort.InferenceSession.create(join(dir, net.file), options).catch((e: Error) => {
        throw new Error(`network ${key} (${net.file}) did not load: ${e.message}`);
      });
      sessions.set(key, session);
      const want = (specs: { name: string }[]) => specs.map((s) => s.name).sort().join(",");
      const inputs = [...session.inputNames].sort().join(",");
      if (inputs !== want(net.inputs)) throw new Error(`network ${key} takes inputs [${inputs}], pack.json says [${want(net.inputs)}]`);
      const missing = net.outputs.filter((o) => !session.outputNames.includes(o.name)).map((o) => o.name);
      if (missing.length) throw new Error(`network ${key} lacks output(s) ${missing.join(", ")} named in pack.json`);
    }
  } catch (e) {
    await Promise.allSettled([...sessions.values()].map((s) => s.release()));
    throw e;
  }
  return sessions;
}

/**
 * The pack's checked sessions (openSessions): in `host`'s worker thread when given (the server,
 * whose event loop must stay free), else on this thread (the CLI, scripts).
 */
export async function openPackRuntime(pack: LoadedPack, settings: SessionSettings, host?: SessionHost): Promise<PackRuntime> {
  const options = sessionOptions(settings);
  const runner = host ? await host.open(pack, options) : new SessionRunner(await openSessions(pack.dir, pack.manifest.networks, options));
  return { pack, settings, runner };
}

export async function closePackRuntime(rt: PackRuntime): Promise<void> {
  await rt.runner.close();
}
