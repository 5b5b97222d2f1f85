// One generation: check the connection and pack, read the picked condition through the main
// thread, assemble the request (seed, variations, photo source, restyle, layer labels) and send it.
import { bytesToBase64, type ClientMessage, type PackInfo } from "../../protocol/index.ts";
import type { InsertTarget, PhotoExport } from "../../plugin/messages.ts";
import { CONNECTION_SENTENCES, errorSentence } from "../lib/error-text.ts";
import type { RequestMode, RequestPurpose } from "../lib/requests.ts";
import { randomSeed, type PickedCondition } from "../lib/settings.ts";
import { swatchOf } from "../lib/swatches.ts";
import { edgesCondition, maskCondition, strokeCondition, type ConditionRead } from "./condition.ts";
import type { SessionContext } from "./context.ts";
import type { Notice } from "./state.ts";

/** Longest side of a photo sent to the server: its message limit is 2 MiB. */
export const PHOTO_MAX_SIDE = 512;

/** A class label without its note in brackets: "Hair (incl. hat)" -> "Hair". */
export const shortLabel = (label: string) => label.replace(/\s*\(.*\)$/, "");

function say(session: SessionContext, mode: RequestMode, notice: Notice): void {
  // A live preview repeats on every edit: its problems are shown the same way, and cleared by the next good run.
  session.set({ notice, ...(mode === "final" ? { busy: null } : { previewPending: null }) });
}

/** Checks shared by every request: connected, a pack. Says what is wrong for a final request. */
function ready(session: SessionContext, mode: RequestMode): PackInfo | null {
  const conn = session.connection?.current;
  if (!conn || conn.status !== "open") {
    if (mode === "final") say(session, mode, { tone: "error", text: CONNECTION_SENTENCES.notConnected });
    return null;
  }
  const pack = session.state.pack;
  if (!pack) {
    say(session, mode, { tone: "error", text: CONNECTION_SENTENCES.noPack });
    return null;
  }
  return pack;
}

/** Sends a request and registers it; false (and says so) when the socket is gone. */
function send(session: SessionContext, message: ClientMessage & { id: string }, mode: RequestMode, total: number, purpose: RequestPurpose, busyText: string): boolean {
  const frameId = purpose.target?.kind === "frame" ? purpose.target.id : null;
  const superseded = session.book.begin(message.id, mode, total, frameId, purpose);
  if (superseded) session.connection?.send({ type: "cancel", id: superseded });
  if (!session.connection?.send(message)) {
    session.book.forget(message.id);
    if (mode === "final") say(session, mode, { tone: "error", text: CONNECTION_SENTENCES.notConnected });
    return false;
  }
  if (session.state.notice?.tone !== "success" || mode === "final") session.set({ notice: null });
  if (mode === "final") session.set({ busy: { id: message.id, text: busyText, fraction: 0.02, total } });
  else session.set({ previewPending: message.id });
  return true;
}

/** The selected photo (or the photo with this id), at most PHOTO_MAX_SIDE (or the pack's size) a side. */
function readPhoto(session: SessionContext, nodeId?: string) {
  return session.reads.photo(Math.max(PHOTO_MAX_SIDE, session.state.pack?.resolution ?? 0), nodeId);
}

/**
 * The frame's drawing as the condition the picker asks for (condition.ts), read through the main
 * thread. Also the classes of the selected shapes (what a restyle changes).
 */
async function readCondition(session: SessionContext, pack: PackInfo, kind: PickedCondition): Promise<ConditionRead> {
  if (kind === "edges") return edgesCondition(await readPhoto(session));
  if (kind === "mask") return maskCondition(await session.reads.frame(), pack, session.state.packs);
  return strokeCondition(kind, await session.reads.strokes(), pack, session.state.packs);
}

/** Generate (final or live preview), or restyle the selected shapes' region. */
export async function runGenerate(session: SessionContext, mode: RequestMode, options: { restyle?: boolean } = {}): Promise<void> {
  const seq = mode === "preview" ? ++session.previewSeq : 0;
  const stale = () => mode === "preview" && seq !== session.previewSeq;
  const pack = ready(session, mode);
  if (!pack) return;
  const kind = session.conditionKind(pack);
  if (!pack.conditions.includes(kind)) return say(session, mode, { tone: "error", text: errorSentence("unsupported_condition") });

  const read = await readCondition(session, pack, kind);
  if (stale()) return;
  if (!read.ok) return say(session, mode, { tone: mode === "final" ? "error" : "warning", text: read.text });
  if (read.layout) session.set({ layout: read.layout });

  // An "Edit · …" frame generates with its photo's identity while the photo is there.
  let source: { photo: PhotoExport } | null = null;
  const link = read.frame?.source;
  if (link?.present) {
    const photo = await readPhoto(session, link.nodeId);
    if (!photo.ok) return say(session, mode, { tone: "error", text: photo.problem.message });
    source = { photo: photo.photo };
  }

  const { variations } = session.state.settings;
  const labels: string[] = [];
  let restyle: { classes: number[]; seed: number } | undefined;
  let seed = session.state.settings.seed;
  if (options.restyle) {
    if (!read.frame) return say(session, mode, { tone: "error", text: "Restyle works on a frame: select shapes of one face part (say, the hair) in it." });
    if (read.selectedClasses.length === 0) {
      return say(session, mode, { tone: "warning", text: "Select the shapes of the face part to restyle (say, the hair) in the frame, then click Restyle this region." });
    }
    restyle = { classes: read.selectedClasses, seed: randomSeed() };
    seed = read.frame.lastSeed ?? seed;
  }
  const total = mode === "final" ? (source && !restyle ? 1 : variations) : 1;
  const partNames = restyle ? [...new Set(restyle.classes.map((id) => shortLabel(swatchOf(pack, id)?.label ?? String(id))))].join(" + ") : "";
  for (let i = 0; i < total; i++) {
    const base = source ? `identity of “${source.photo.name}”` : `seed ${(seed + (restyle ? 0 : i)) % 2 ** 32}`;
    const parts = [base];
    if (restyle) parts.push(`${partNames} from seed ${(restyle.seed + i) % 2 ** 32}`);
    if (kind === "edges" && read.photo) parts.push(`edges of “${read.photo.name}”`);
    labels.push(parts.join(" · "));
  }
  // Fit layout: final shapes only (a preview stays one fast candidate, the same person as you drag).
  const fit = mode === "final" && kind === "mask" && !restyle && session.state.settings.fit > 1 ? session.state.settings.fit : undefined;
  const target: InsertTarget | null = read.photo ? { kind: "beside", id: read.photo.nodeId } : read.frame ? { kind: "frame", id: read.frame.id } : null;
  const id = session.book.nextId(mode);
  const message: ClientMessage & { id: string } = {
    type: "generate",
    id,
    pack: pack.name,
    condition: read.condition,
    seed,
    variations: total,
    mode,
    ...(source ? { source: { kind: "photo" as const, photo: bytesToBase64(source.photo.png) } } : {}),
    ...(restyle ? { restyle } : {}),
    ...(fit ? { fit } : {}),
  };
  const action = restyle ? "restyle" : kind === "edges" ? "edges" : "generate";
  const busyText = source ? "Sending the layout and the photo" : kind === "edges" ? "Sending the photo" : "Sending the layout";
  const photo = source ? { nodeId: source.photo.nodeId, name: source.photo.name } : undefined;
  send(session, message, mode, total, { action, target, photo, ...(fit && !source ? { fit } : { labels }) }, busyText);
}

/** "Use selected image as exemplar": the photo's layout, new faces from the seed(s). */
export async function runExemplar(session: SessionContext): Promise<void> {
  const pack = ready(session, "final");
  if (!pack) return;
  const read = await readPhoto(session);
  if (!read.ok) return say(session, "final", { tone: "error", text: read.problem.message });
  const { seed, variations } = session.state.settings;
  const id = session.book.nextId("final");
  const labels = Array.from({ length: variations }, (_, i) => `seed ${(seed + i) % 2 ** 32} · layout of “${read.photo.name}”`);
  send(
    session,
    { type: "generate", id, pack: pack.name, condition: { kind: "exemplar", photo: bytesToBase64(read.photo.png) }, seed, variations, mode: "final" },
    "final",
    variations,
    { action: "exemplar", target: { kind: "beside", id: read.photo.nodeId }, photo: { nodeId: read.photo.nodeId, name: read.photo.name }, labels },
    "Sending the photo",
  );
}

/** "Edit this photo": ask the server for the photo's layout (answered by `layout`, see on-server.ts). */
export async function runEdit(session: SessionContext): Promise<void> {
  const pack = ready(session, "final");
  if (!pack) return;
  const read = await readPhoto(session);
  if (!read.ok) return say(session, "final", { tone: "error", text: read.problem.message });
  const id = session.book.nextId("final");
  send(
    session,
    { type: "invert", id, pack: pack.name, photo: bytesToBase64(read.photo.png) },
    "final",
    1,
    { action: "edit", target: null, photo: { nodeId: read.photo.nodeId, name: read.photo.name } },
    "Sending the photo",
  );
}
