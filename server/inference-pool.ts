// The in-process server's networks run in one worker thread (inference-worker.ts, through
// piscina), so the event loop stays free for /health, the WebSocket and HTTP while a run goes on.
// One thread is enough: runs are serial per provider anyway (engine.ts concurrencyFor: each run
// uses every core), and one thread holds one copy of every pack's sessions. A thread that dies
// fails the runs it held (the client is told, as for any failed run); piscina starts another,
// which opens each pack again on its first run (inference-worker.ts).
import type * as ort from "onnxruntime-node";
import { Piscina } from "piscina";
import type { InferenceTask, PackSessions, WireTensor } from "./inference-worker.ts";
import type { LoadedPack } from "./pack/registry.ts";
import type { NetworkRunner, Feeds } from "./pipeline/runner.ts";
import { workerFile } from "./worker-file.ts";

export interface InferencePool {
  /** Opens the pack's sessions in the worker (checking their inputs and outputs); its runner. */
  open(pack: LoadedPack, options: ort.InferenceSession.SessionOptions): Promise<NetworkRunner>;
  close(): Promise<void>;
}

export async function createInferencePool(): Promise<InferencePool> {
  const ortModule = await import("onnxruntime-node");
  const pool = new Piscina<InferenceTask, unknown>({
    ...workerFile("inference-worker", import.meta.url),
    minThreads: 1,
    maxThreads: 1,
    // Every task waits its turn: the queue's own limits (queue.ts) bound how many there are.
    maxQueue: Infinity,
    idleTimeout: Infinity,
    // Closing waits for the run in progress: a thread terminated inside onnxruntime-node's native
    // code can abort the whole process ("terminate called after throwing Napi::Error"). A run is
    // seconds at most; past this the thread is terminated anyway, so shutdown cannot hang.
    closeTimeout: 10_000,
  });
  const toTensor = (t: WireTensor) => new ortModule.Tensor(t.type, t.data as never, t.dims);

  return {
    async open(pack, options) {
      const networks = Object.fromEntries(Object.entries(pack.manifest.networks).map(([k, n]) => [k, { file: n.file, inputs: n.inputs, outputs: n.outputs }]));
      const spec: PackSessions = { name: pack.name, dir: pack.dir, networks, options };
      await pool.run({ op: "open", pack: spec });
      const keys = new Set(Object.keys(networks));
      return {
        where: "in-process",
        has: (key) => keys.has(key),
        async run(key: string, feeds: Feeds) {
          const wire: Record<string, WireTensor> = {};
          for (const [name, t] of Object.entries(feeds)) wire[name] = { type: t.type, data: t.data, dims: t.dims };
          const out = (await pool.run({ op: "run", pack: spec, key, feeds: wire })) as Record<string, WireTensor>;
          return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, toTensor(t)]));
        },
        close: async () => {
          await pool.run({ op: "close", pack: pack.name });
        },
      };
    },
    // Queued runs are refused; the one in progress finishes first (see closeTimeout).
    close: () => pool.close({ force: true }),
  };
}
