// A pack whose networks run on the serving engine: the NetworkRunner of serve --engine URL.
// The pipeline around the networks (conditions, argmax, batching, PNG) stays in this process.
import type * as ort from "onnxruntime-node";
import type { LoadedPack } from "../pack/registry.ts";
import type { Feeds, NetworkRunner } from "../pipeline/runner.ts";
import type { EngineClient } from "./client.ts";
import { decodeTensors, encodeTensors } from "./wire.ts";

export class EngineRunner implements NetworkRunner {
  readonly where: string;
  constructor(
    private readonly client: EngineClient,
    private readonly pack: LoadedPack,
  ) {
    this.where = client.url;
  }

  /** The engine serves every network pack.json names (engine/app.py opens them all). */
  has(key: string): boolean {
    return Object.hasOwn(this.pack.manifest.networks, key);
  }

  async run(key: string, feeds: Feeds): Promise<Record<string, ort.Tensor>> {
    const net = this.pack.manifest.networks[key];
    const out = await this.client.run(this.pack.name, key, net.sha256, encodeTensors(feeds));
    return decodeTensors(out);
  }

  async close(): Promise<void> {}
}

/** Why the engine cannot serve `pack` as this server has it (another version), or null when it can. */
export function packMismatch(pack: LoadedPack, served: Record<string, string>): string | null {
  const differ = Object.entries(pack.manifest.networks)
    .filter(([key, net]) => served[key] !== net.sha256)
    .map(([key]) => key);
  return differ.length ? `the engine serves other files for ${differ.join(", ")} (sha256 differs from pack.json)` : null;
}

/** Asks the engine about `pack`: null when it serves it as it is here, else why not (unreachable too). */
export async function engineProblem(client: EngineClient, pack: LoadedPack): Promise<string | null> {
  try {
    return packMismatch(pack, (await client.info(pack.name)).networks);
  } catch (e) {
    return (e as Error).message;
  }
}

/** /health's view of the engine: reachable, and serving this server's packs as they are here. */
export interface RemoteEngineStatus {
  url: string;
  reachable: boolean;
  message?: string;
  /** Network calls this server made, and how many calls shared an engine run on average. */
  calls: number;
  callsPerRun: number;
}

export async function engineStatus(client: EngineClient, packs: LoadedPack[]): Promise<RemoteEngineStatus> {
  const problems = (await Promise.all(packs.map(async (p) => [p.name, await engineProblem(client, p)] as const))).filter(([, why]) => why);
  const { calls, runs } = client.counts;
  const counts = { calls, callsPerRun: runs ? Math.round((calls / runs) * 100) / 100 : 0 };
  if (!problems.length) return { url: client.url, reachable: true, ...counts };
  return { url: client.url, reachable: false, message: problems.map(([name, why]) => `${name}: ${why}`).join("; "), ...counts };
}
