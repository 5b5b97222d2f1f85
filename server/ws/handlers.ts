// What each client message does, one named handler per `type`: validate through the engine, queue,
// and answer with image / layout messages (progress, done and errors come from the connection).
import { base64ToBytes, bytesToBase64, type CancelRequest, type GenerateRequest, type InvertRequest } from "../../protocol/index.ts";
import type { JobRequest, JobResult } from "../jobs.ts";
import type { ClientConnection, MessageHandlers } from "./connection.ts";

const queueMsRounded = (queueMs: number) => Math.round(queueMs * 100) / 100;

function onGenerate(client: ClientConnection, req: GenerateRequest): void {
  const c = req.condition;
  const condition: JobRequest["condition"] =
    c.kind === "edges" || c.kind === "exemplar" ? { kind: c.kind, photo: base64ToBytes(c.photo) } as JobRequest["condition"] : { kind: c.kind, width: c.width, height: c.height, data: base64ToBytes(c.data) };
  const result = client.engine.prepare({
    requestId: req.id,
    pack: req.pack,
    condition,
    seed: req.seed,
    variations: req.variations,
    truncation: req.truncation,
    source: req.source ? base64ToBytes(req.source.photo) : undefined,
    restyle: req.restyle,
    fit: req.fit,
  });
  client.admit(req.id, result, (job) => client.enqueue(job, req.mode, req.variations, (r, queueMs) => sendImages(client, req.id, req.mode, r, queueMs)));
}

function sendImages(client: ClientConnection, id: string, mode: GenerateRequest["mode"], result: JobResult, queueMs: number): void {
  if (result.kind !== "generate") return;
  const timings = { queue: queueMsRounded(queueMs), ...result.timings };
  result.images.forEach((img, index) =>
    client.send({
      type: "image",
      id,
      index,
      total: result.images.length,
      seed: img.seed,
      pack: result.pack,
      width: img.width,
      height: img.height,
      mode,
      png: bytesToBase64(img.png),
      timings,
      ...(img.restyleSeed !== undefined ? { restyleSeed: img.restyleSeed } : {}),
      ...(img.fitScore !== undefined ? { fitScore: img.fitScore } : {}),
    }),
  );
}

function onInvert(client: ClientConnection, req: InvertRequest): void {
  const result = client.engine.prepareInvert({ requestId: req.id, pack: req.pack, photo: base64ToBytes(req.photo) });
  client.admit(req.id, result, (job) =>
    client.enqueue(job, "final", 1, (result, queueMs) => {
      if (result.kind !== "invert") return;
      client.send({
        type: "layout",
        id: req.id,
        pack: result.pack,
        width: result.width,
        height: result.height,
        data: bytesToBase64(result.classMap),
        polygons: result.polygons.map((p) => ({ classId: p.classId, points: p.points })),
        timings: { queue: queueMsRounded(queueMs), ...result.timings },
      });
    }),
  );
}

function onCancel(client: ClientConnection, req: CancelRequest): void {
  const reading = client.decoding.get(req.id);
  if (reading) {
    // Still in the decode worker: it will not be queued; answered like a waiting request.
    reading.cancelled = true;
    client.decoding.delete(req.id);
    client.remember(req.id);
    return client.sendError("cancelled", "Cancelled before it was queued.", req.id);
  }
  if (client.engine.queue.cancel(client.id, req.id) !== null) return;
  if (client.finished.has(req.id)) return; // it finished before the cancel arrived: nothing to say
  client.sendError("unknown_request", `There is no waiting or running request with id ${req.id}.`, req.id);
}

/** The handler for each message type; parseClientMessage has already refused any other type. */
export const MESSAGE_HANDLERS: MessageHandlers = Object.freeze({
  generate: onGenerate,
  invert: onInvert,
  cancel: onCancel,
});
