// Runs in a worker thread (inference-pool.ts): the packs' ONNX Runtime sessions and their runs.
// onnxruntime-node's `run` is synchronous native code on the calling thread, so in the server's
// own thread every run stalled the event loop (a /health during an 8-image request waited 549 ms).
// Here it stalls only this thread. Tensors travel as plain { type, data, dims }.
import * as ort from "onnxruntime-node";
import { Piscina } from "piscina";
import { openSessions, type NetworkFiles } from "./pipeline/runtime.ts";
import { SessionRunner } from "./pipeline/runner.ts";

export interface WireTensor {
  type: ort.Tensor.Type;
  data: ort.Tensor.DataType;
  dims: readonly number[];
}

/** What this thread needs to open a pack's sessions; every task carries it (see sessionsOf). */
export interface PackSessions {
  name: string;
  dir: string;
  networks: NetworkFiles;
  options: ort.InferenceSession.SessionOptions;
}

export type InferenceTask =
  | { op: "open"; pack: PackSessions }
  | { op: "run"; pack: PackSessions; key: string; feeds: Record<string, WireTensor> }
  | { op: "close"; pack: string };

/** Open (or opening) sessions by pack name. */
const packs = new Map<string, Promise<SessionRunner>>();

/**
 * The pack's sessions, opened on first use. A thread that replaced one that died (piscina starts
 * a new one) holds none, so it opens them again on its first run instead of failing every run.
 */
function sessionsOf(pack: PackSessions): Promise<SessionRunner> {
  let runner = packs.get(pack.name);
  if (!runner) {
    runner = openSessions(pack.dir, pack.networks, pack.options).then((sessions) => new SessionRunner(sessions));
    runner.catch(() => packs.delete(pack.name)); // a failed open is tried again next time
    packs.set(pack.name, runner);
  }
  return runner;
}

async function run(task: Extract<InferenceTask, { op: "run" }>) {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(task.feeds)) feeds[name] = new ort.Tensor(t.type, t.data as never, t.dims);
  const out = await (await sessionsOf(task.pack)).run(task.key, feeds);
  const wire: Record<string, WireTensor> = {};
  const buffers: ArrayBuffer[] = [];
  for (const [name, t] of Object.entries(out)) {
    wire[name] = { type: t.type, data: t.data, dims: t.dims };
    buffers.push((t.data as { buffer: ArrayBuffer }).buffer);
  }
  // Fresh outputs: moved to the server's thread, not copied (piscina's Transferable protocol).
  return Piscina.move({ [Piscina.transferableSymbol]: buffers, [Piscina.valueSymbol]: wire } as never);
}

export default async function inference(task: InferenceTask): Promise<unknown> {
  if (task.op === "open") return void (await sessionsOf(task.pack));
  if (task.op === "run") return run(task);
  const runner = packs.get(task.pack);
  packs.delete(task.pack);
  await (await runner?.catch(() => null))?.close();
}
