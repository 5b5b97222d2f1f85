// Where a pack's networks run: in this process (ONNX Runtime sessions, runtime.ts) or on a
// serving engine (engine-client/runner.ts). The pipeline (stages.ts) sees only this interface,
// so everything around the networks (queue, batching, PNG encoding, errors) is the same for both.
import type * as ort from "onnxruntime-node";

export type Feeds = Record<string, ort.Tensor>;

export interface NetworkRunner {
  /** "in-process", or the engine's URL: said in logs and /health. */
  readonly where: string;
  /** Whether the pack has this network here (an encoder, a parser are optional). */
  has(key: string): boolean;
  /** One run: inputs by pack.json name -> outputs by name. */
  run(key: string, feeds: Feeds): Promise<Record<string, ort.Tensor>>;
  close(): Promise<void>;
}

/** In-process ONNX Runtime sessions, one a network. */
export class SessionRunner implements NetworkRunner {
  readonly where = "in-process";
  constructor(private readonly sessions: Map<string, ort.InferenceSession>) {}

  has(key: string): boolean {
    return this.sessions.has(key);
  }

  run(key: string, feeds: Feeds): Promise<Record<string, ort.Tensor>> {
    const session = this.sessions.get(key);
    if (!session) throw new Error(`no session for network ${key}`);
    return session.run(feeds);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.sessions.values()].map((s) => s.release()));
    this.sessions.clear();
  }
}
