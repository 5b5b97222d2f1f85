// What each server message does to the UI, one named handler per outcome the request ledger
// (lib/requests.ts) makes of it: progress, preview and final images, a layout, an error.
import { base64ToBytes, type ImageResult, type LayoutResult, type ServerMessage } from "../../protocol/index.ts";
import { emitToMain } from "../bridge.ts";
import { backgroundClassId } from "../lib/classify.ts";
import { errorSentence, progressFraction, progressSentence } from "../lib/error-text.ts";
import { addToHistory, type HistoryEntry } from "../lib/history.ts";
import type { Outcome, PendingRequest } from "../lib/requests.ts";
import { randomSeed } from "../lib/settings.ts";
import { swatchOf } from "../lib/swatches.ts";
import type { SessionContext } from "./context.ts";
import { shortLabel } from "./requests.ts";
import { pngSrc } from "./state.ts";

type OutcomeHandlers = { readonly [K in Outcome["kind"]]: (session: SessionContext, out: Extract<Outcome, { kind: K }>) => void };

/** A final request's images: onto the canvas, into the history; the seed moves on unless locked. */
function finish(session: SessionContext, request: PendingRequest, images: ImageResult[]): void {
  session.set({ busy: { id: request.id, text: "Adding to the canvas", fraction: 0.97, total: request.total } });
  const { labels, fit } = request.purpose;
  // Fit layout: the server chose the seeds, so each layer is named by its own.
  const labelOf = (i: ImageResult) => labels?.[i.index] ?? (fit ? `seed ${i.seed} · best of ${fit} for the layout` : undefined);
  emitToMain({
    type: "insert",
    requestId: request.id,
    frameId: request.frameId,
    ...(request.purpose.target ? { target: request.purpose.target } : {}),
    pack: images[0].pack,
    images: images.map((i) => {
      const label = labelOf(i);
      return { png: base64ToBytes(i.png), seed: i.seed, ...(label ? { label } : {}) };
    }),
  });
  const packTitle = session.state.packs.find((p) => p.name === images[0].pack)?.title ?? images[0].pack;
  const now = Date.now();
  const entries: HistoryEntry[] = images.map((i) => ({
    id: `${request.id}-${i.index}`,
    seed: i.seed,
    pack: i.pack,
    packTitle,
    time: now + (images.length - i.index) * 1e-3, // keeps variation order among same-time entries
    width: i.width,
    height: i.height,
    png: i.png,
  }));
  const history = addToHistory(session.state.history, entries);
  session.set({ history });
  emitToMain({ type: "save", key: "history", value: history });
  if (!session.state.settings.seedLocked) session.setSeed(randomSeed());
}

/** "Edit this photo": the photo's layout becomes a frame of shapes beside it (main thread). */
function makeLayoutFrame(session: SessionContext, request: PendingRequest, layout: LayoutResult): void {
  const pack = session.state.packs.find((p) => p.name === layout.pack) ?? session.state.pack;
  const photo = request.purpose.photo;
  if (!pack || !photo) return;
  session.set({ busy: { id: request.id, text: "Adding the layout's shapes", fraction: 0.95, total: 1 } });
  const bg = pack.backgroundClass ?? backgroundClassId(pack);
  emitToMain({
    type: "create-layout",
    requestId: request.id,
    photoNodeId: photo.nodeId,
    resolution: layout.width,
    shapes: layout.polygons,
    // Both eyes as one "Eye" in the Eye swatch's colour, as the designer would draw them.
    classes: pack.classes.map((c) => {
      const swatch = swatchOf(pack, c.id);
      return { id: c.id, label: shortLabel(swatch?.label ?? c.label), color: swatch?.color ?? c.color };
    }),
    background: pack.classes.find((c) => c.id === bg)?.color ?? null,
  });
}

const ON_OUTCOME: OutcomeHandlers = Object.freeze({
  ignore: () => {},
  progress: (session, out) => {
    if (out.request.mode === "final") {
      session.set({ busy: { id: out.request.id, text: progressSentence(out.progress), fraction: progressFraction(out.progress), total: out.request.total } });
    }
  },
  preview: (session, out) => session.set({ preview: { src: pngSrc(out.image.png), seed: out.image.seed, requestId: out.request.id, mode: "preview" } }),
  "preview-done": (session, out) => {
    if (session.state.previewPending === out.request.id) session.set({ previewPending: null });
  },
  "final-image": (session, out) => {
    if (out.image.index === 0) session.set({ preview: { src: pngSrc(out.image.png), seed: out.image.seed, requestId: out.request.id, mode: "final" } });
  },
  "final-done": (session, out) => {
    if (out.warnings.length) session.warnings.set(out.request.id, out.warnings.map((w) => w.message).join(" "));
    finish(session, out.request, out.images);
  },
  "layout-done": (session, out) => makeLayoutFrame(session, out.request, out.layout),
  error: (session, out) => {
    const req = out.request;
    if (req?.mode === "final") session.set({ busy: null });
    if (req?.mode === "preview" && session.state.previewPending === req.id) session.set({ previewPending: null });
    if (!out.quiet) session.set({ notice: { tone: "error", text: errorSentence(out.code), detail: out.message } });
  },
});

export function onServer(session: SessionContext, msg: ServerMessage): void {
  if (msg.type === "welcome") return session.onWelcome(msg);
  const out = session.book.receive(msg);
  (ON_OUTCOME[out.kind] as (session: SessionContext, out: Outcome) => void)(session, out);
}
