// Runs in a worker thread (inference-pool.ts): the packs' ONNX Runtime sessions and their runs.
// onnxruntime-node's `run` is synchronous native code on the calling thread, so in the server's
// own thread every run stalled the event loop (a /health during an 8-image request waited 549 ms).
// Here it stalls only this thread. Tensors travel as plain { type, data, dims }.
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { Piscina } from "piscina";
import type { NetworkFile } from "./pack/schema.ts";

export interface WireTensor {
  type: ort.Tensor.Type;
  data: ort.Tensor.DataType;
  dims: readonly number[];
}

export type InferenceTask =
  | { op: "open"; pack: string; dir: string; networks: Record<string, Pick<NetworkFile, "file" | "inputs" | "outputs">>; options: ort.InferenceSession.SessionOptions }
  | { op: "run"; pack: string; key: string; feeds: Record<string, WireTensor> }
  | { op: "close"; pack: string };

/** Sessions by pack, then by network key. */
const packs = new Map<string, Map<string, ort.InferenceSession>>();

async function open(task: Extract<InferenceTask, { op: "open" }>): Promise<void> {
  const sessions = new Map<string, ort.InferenceSession>();
  try {
    for (const [key, net] of Object.entries(task.networks)) {
      const session = await ort.InferenceSession.create(join(task.dir, net.file), task.options);
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
  packs.set(task.pack, sessions);
}

async function run(task: Extract<InferenceTask, { op: "run" }>) {
  const session = packs.get(task.pack)?.get(task.key);
  if (!session) throw new Error(`no session for network ${task.key} of pack ${task.pack}`);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(task.feeds)) feeds[name] = new ort.Tensor(t.type, t.data as never, t.dims);
  const out = await session.run(feeds);
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
  if (task.op === "open") return open(task);
  if (task.op === "run") return run(task);
  const sessions = packs.get(task.pack);
  packs.delete(task.pack);
  await Promise.allSettled([...(sessions?.values() ?? [])].map((s) => s.release()));
}
