// What a message handler may use of the socket its message came on, and the shape of the handler
// table. WsClient (client.ts) implements the connection and handlers.ts fills the table; index.ts
// hands the table to each WsClient, so neither of the two imports the other.
import type { ClientMessage, ErrorCode, GenerateRequest, Parsed, ServerMessage } from "../../protocol/index.ts";
import type { Engine } from "../engine.ts";
import type { Job, JobResult } from "../jobs.ts";

export interface ClientConnection {
  readonly id: string;
  readonly engine: Engine;
  /** Ids of requests that already finished: a cancel for one of them is answered with nothing. */
  readonly finished: ReadonlySet<string>;
  /** Requests whose photos are being decoded, by id: a cancel marks them. */
  readonly decoding: Map<string, { cancelled: boolean }>;
  send(msg: ServerMessage): void;
  sendError(code: ErrorCode, message: string, id?: string): void;
  remember(id: string): void;
  /** Validation, then `go` with the job (at once, or once its photos are decoded). */
  admit(id: string, result: Parsed<Job> | Promise<Parsed<Job>>, go: (job: Job) => void): void;
  /** Queues a validated job; progress and errors are answered, the result goes to `deliver`. */
  enqueue(job: Job, mode: GenerateRequest["mode"], total: number, deliver: (result: JobResult, queueMs: number) => void): void;
}

export type MessageHandler<T extends ClientMessage["type"]> = (client: ClientConnection, request: Extract<ClientMessage, { type: T }>) => void;

/** One handler per message type; parseClientMessage has already refused any other type. */
export type MessageHandlers = { readonly [T in ClientMessage["type"]]: MessageHandler<T> };
