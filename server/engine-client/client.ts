// HTTP to the serving engine (engine/app.py on Ray Serve): one POST per network run, with the
// tensors in the binary wire format (wire.ts). Every call is bounded twice: by its own timeout
// (serve --engine-timeout) and by its job's deadline or cancellation (the job signal), so a slow
// or silent engine never holds a worker slot. A refused or dropped connection, or a replica that
// died (5xx), is retried once after a short pause; then the job fails with a typed error.
import { JobFailure } from "../failure.ts";
import { currentJobSignal, GenerationAborted } from "../pipeline/hooks.ts";
import { TENSOR_CONTENT_TYPE } from "./wire.ts";

export interface EngineClientOptions {
  /** Base URL; a pack's networks are at <url>/<pack>/<network>. */
  url: string;
  /** Longest wait for one network run, ms. */
  timeoutMs: number;
  /** Sent as a bearer token when the engine's config has one (phototype engine --token). */
  token?: string;
  /** Pause before the one retry, ms. */
  retryDelayMs?: number;
  /** Told about each retry (the server's log). */
  onRetry?: (line: string) => void;
}

/** What the engine says about a pack it serves (GET <url>/<pack>/). */
export interface EnginePackInfo {
  pack: string;
  version: string;
  provider: string;
  pid: number;
  networks: Record<string, string>;
}

/** A failure worth one more try: the connection, or the engine's proxy or a replica (5xx). */
class Transient extends Error {}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });

/** The innermost reason of a failed fetch: "connect ECONNREFUSED 127.0.0.1:8000", "other side closed". */
function why(e: unknown): string {
  let err = e as { message?: string; cause?: unknown };
  while (err?.cause && typeof err.cause === "object") err = err.cause as typeof err;
  return (err?.message ?? String(e)).split("\n")[0].slice(0, 160);
}

export class EngineClient {
  readonly url: string;
  /** Network calls answered, and the engine runs they made: calls / runs = calls a run (@serve.batch). */
  readonly counts = { calls: 0, runs: 0 };
  readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly retryDelayMs: number;
  private readonly onRetry?: (line: string) => void;

  constructor(options: EngineClientOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs;
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.onRetry = options.onRetry;
    this.headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
  }

  unavailable(reason: string): JobFailure {
    return new JobFailure(
      "engine_unavailable",
      `The engine that runs the networks (${this.url}) is not answering right now (${reason}). Try again in a minute; ` +
        "if it keeps happening, ask whoever runs it to check it (docs/SCALING.md).",
    );
  }

  /** One network run: tensor body in, tensor body out. Throws JobFailure or GenerationAborted. */
  async run(pack: string, network: string, sha256: string, body: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    const job = currentJobSignal();
    const url = `${this.url}/${encodeURIComponent(pack)}/${encodeURIComponent(network)}`;
    const headers = { ...this.headers, "content-type": TENSOR_CONTENT_TYPE, "x-phototype-sha256": sha256 };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.post(url, headers, body, pack, network, job);
      } catch (e) {
        if (!(e instanceof Transient)) throw e;
        if (attempt >= 1) throw this.unavailable(e.message);
        this.onRetry?.(`engine: ${pack} ${network} failed (${e.message}); retrying once`);
        await sleep(this.retryDelayMs, job);
        if (job?.aborted) throw new GenerationAborted();
      }
    }
  }

  private async post(url: string, headers: Record<string, string>, body: Uint8Array<ArrayBuffer>, pack: string, network: string, job?: AbortSignal): Promise<Uint8Array> {
    if (job?.aborted) throw new GenerationAborted();
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = job ? AbortSignal.any([job, timeout]) : timeout;
    let res: Response;
    let bytes: ArrayBuffer;
    try {
      res = await fetch(url, { method: "POST", headers, body, signal });
      bytes = await res.arrayBuffer();
    } catch (e) {
      if (job?.aborted) throw new GenerationAborted();
      if (timeout.aborted) {
        throw new JobFailure(
          "engine_timeout",
          `The engine that runs the networks (${this.url}) took longer than ${this.timeoutMs / 1000} s for one step (${network}); it may be overloaded. Try again in a moment.`,
        );
      }
      throw new Transient(why(e));
    }
    if (res.ok) {
      // The engine says how many calls shared this call's run; k calls sharing one count 1/k each.
      const shared = Number(res.headers.get("x-phototype-batch")) || 1;
      this.counts.calls++;
      this.counts.runs += 1 / shared;
      return new Uint8Array(bytes);
    }
    const text = Buffer.from(bytes).toString().slice(0, 300);
    if (res.status >= 500) throw new Transient(`HTTP ${res.status}${text ? `: ${text.split("\n")[0].slice(0, 120)}` : ""}`);
    if (res.status === 404) throw this.refused(`it does not serve pack ${pack} (or its ${network} network); deploy it with \`npx phototype engine\``);
    if (res.status === 409) throw this.refused(`it serves another version of pack ${pack} than this server; update one of them`);
    if (res.status === 401) throw this.refused("it needs another token (serve --engine-token)");
    // 400: this server sent something the network cannot take: our bug, said as such.
    throw new Error(`the engine refused ${pack} ${network}: HTTP ${res.status} ${text}`);
  }

  private refused(reason: string): JobFailure {
    return new JobFailure("engine_unavailable", `The engine that runs the networks (${this.url}) cannot make this image: ${reason}.`);
  }

  /** GET <url>/<pack>/: the pack's version and network hashes as the engine serves them. */
  async info(pack: string, timeoutMs = 3000): Promise<EnginePackInfo> {
    let res: Response;
    try {
      res = await fetch(`${this.url}/${encodeURIComponent(pack)}/`, { headers: this.headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw new Error((e as Error).name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : why(e));
    }
    const text = await res.text();
    if (!res.ok) throw new Error(res.status === 404 ? `it does not serve pack ${pack}` : `HTTP ${res.status}: ${text.slice(0, 120)}`);
    try {
      return JSON.parse(text) as EnginePackInfo;
    } catch {
      throw new Error(`it answered ${pack}/ with something that is not the pack's info`);
    }
  }
}
