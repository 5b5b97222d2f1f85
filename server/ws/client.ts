// One connected socket: its sends (dropping a client that stopped reading), its requests being
// decoded or queued, the ids it already finished, and its three socket events.
import { WebSocket, type RawData } from "ws";
import { CLOSE_SLOW_CONSUMER, parseClientMessage, type ClientMessage, type ErrorCode, type GenerateRequest, type Parsed, type ServerMessage } from "../../protocol/index.ts";
import type { Engine } from "../engine.ts";
import type { Job, JobResult } from "../jobs.ts";
import type { Logger } from "../log.ts";
import type { ClientConnection, MessageHandlers } from "./connection.ts";

/** A client that stops reading gets dropped before its unsent answers use this much memory. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** Photos one connection may have in the decode worker at once; more are answered rate_limited. */
const MAX_DECODING_PER_CLIENT = 2;
/** Finished ids remembered per connection (a late cancel for one of them is answered with nothing). */
const REMEMBERED_FINISHED = 256;

function rawToText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}

export class WsClient implements ClientConnection {
  private received = 0;
  private refused = 0;
  /**
   * Ids of this client's requests that already finished: a cancel for one of them is too late,
   * not wrong, so it is answered with nothing. Bounded: the oldest are forgotten first.
   */
  readonly finished = new Set<string>();
  /** Requests whose photos are being decoded (off the event loop), by id: a cancel marks them. */
  readonly decoding = new Map<string, { cancelled: boolean }>();

  constructor(
    private readonly ws: WebSocket,
    readonly id: string,
    readonly engine: Engine,
    private readonly log: Logger,
    /** What each message type does: the table in handlers.ts, given by index.ts so this module need not import it. */
    private readonly handlers: MessageHandlers,
  ) {}

  send(msg: ServerMessage): void {
    const { ws } = this;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.log.warn(`${this.id} stopped reading; closing`);
      ws.close(CLOSE_SLOW_CONSUMER, "slow_consumer");
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(msg));
  }

  sendError(code: ErrorCode, message: string, id?: string): void {
    this.refused++;
    this.send(id === undefined ? { type: "error", code, message } : { type: "error", id, code, message });
  }

  remember(id: string): void {
    this.finished.add(id);
    if (this.finished.size > REMEMBERED_FINISHED) this.finished.delete(this.finished.values().next().value!);
  }

  /**
   * Validation, then `go` with the job. Answers without photos come at once; photo requests
   * wait for the decode worker, at most MAX_DECODING_PER_CLIENT at a time per connection.
   */
  admit(id: string, result: Parsed<Job> | Promise<Parsed<Job>>, go: (job: Job) => void): void {
    if (!(result instanceof Promise)) return result.ok ? go(result.value) : this.sendError(result.code, result.message, id);
    if (this.decoding.has(id)) {
      return this.sendError("duplicate_id", `A request with id ${id} is already waiting or running on this connection.`, id);
    }
    if (this.decoding.size >= MAX_DECODING_PER_CLIENT) {
      void result.catch(() => {}); // it still finishes in the worker; nobody waits for it
      return this.sendError("rate_limited", `This connection already has ${MAX_DECODING_PER_CLIENT} images being read; wait for their answers.`, id);
    }
    const entry = { cancelled: false };
    this.decoding.set(id, entry);
    result.then(
      (p) => {
        this.decoding.delete(id);
        if (entry.cancelled || this.ws.readyState !== WebSocket.OPEN) return;
        if (!p.ok) return this.sendError(p.code, p.message, id);
        go(p.value);
      },
      (e: Error) => {
        this.decoding.delete(id);
        this.log.error(`${this.id} ${id} failed while reading its image: ${e.message}`);
        this.sendError("internal", "The server failed on this request; see its log.", id);
      },
    );
  }

  /** Queues a validated job; answers progress while it waits and runs, then `deliver` or an error. */
  enqueue(job: Job, mode: GenerateRequest["mode"], total: number, deliver: (result: JobResult, queueMs: number) => void): void {
    const id = job.requestId;
    const receivedAt = performance.now();
    let startedAt = receivedAt;
    let settled = false;
    let submitting = true;
    this.finished.delete(id);
    job.onStage = (stage) => {
      if (!settled) this.send({ type: "progress", id, stage, done: 0, total });
    };
    const result = this.engine.queue.submit(
      { clientId: this.id, requestId: id, mode, payload: job },
      {
        position: (position) => {
          if (!submitting && !settled) this.send({ type: "progress", id, stage: "queued", done: 0, total, position });
        },
        started: () => (startedAt = performance.now()),
        settled: (outcome) => {
          settled = true;
          this.remember(id);
          if (!outcome.ok) return this.sendError(outcome.code, outcome.message, id);
          deliver(outcome.result, startedAt - receivedAt);
          const totalMs = Math.round((performance.now() - receivedAt) * 10) / 10;
          this.send({ type: "done", id, totalMs, ...(job.warnings ? { warnings: job.warnings } : {}) });
        },
      },
    );
    submitting = false;
    if (!result.ok) return this.sendError(result.code, result.message, id);
    if (!settled) this.send({ type: "progress", id, stage: "queued", done: 0, total, position: result.position });
  }

  // ------------------------------------------------------------ socket events

  onMessage(data: RawData, isBinary: boolean): void {
    this.received++;
    if (isBinary) return this.sendError("bad_message", "Send JSON text frames; binary frames are not part of the protocol.");
    const parsed = parseClientMessage(rawToText(data));
    if (!parsed.ok) return this.sendError(parsed.code, parsed.message, parsed.id);
    try {
      const handle = this.handlers[parsed.value.type] as (client: ClientConnection, request: ClientMessage) => void;
      handle(this, parsed.value);
    } catch (e) {
      this.log.error(`${this.id} message failed: ${(e as Error).message}`);
      this.sendError("internal", "The server failed on this message; see its log.", parsed.value.id);
    }
  }

  onError(err: Error & { code?: string }): void {
    // ws closes the socket itself (1009 for frames over MAX_MESSAGE_BYTES); we only log.
    this.log.warn(`${this.id} socket error: ${err.code ?? err.message}`);
  }

  onClose(code: number): void {
    const dropped = this.engine.queue.dropClient(this.id);
    this.log.info(`${this.id} closed (code ${code}) after ${this.received} messages, ${this.refused} refused${dropped ? `, ${dropped} requests dropped` : ""}`);
  }
}
