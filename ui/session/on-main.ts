// What each main-thread message does to the UI, one named handler per `type`: stored settings and
// history, the selection, answers to reads, and how inserting results or layouts went.
import type { MainToUi, MessageOf } from "../../plugin/messages.ts";
import { emitToMain } from "../bridge.ts";
import { parseHistory } from "../lib/history.ts";
import { parseSettings } from "../lib/settings.ts";
import type { SessionContext } from "./context.ts";

type MainHandlers = { readonly [T in MainToUi["type"]]: (session: SessionContext, msg: MessageOf<MainToUi, T>) => void };

/** Clears the busy bar when the main thread finished (or failed) the request it shows. */
function doneWith(session: SessionContext, requestId: string): void {
  if (session.state.busy?.id === requestId) session.set({ busy: null });
}

function insertedText(msg: MessageOf<MainToUi, "inserted">): string {
  const first = msg.names[0] ?? "the image";
  if (msg.placement === "beside") {
    return msg.count === 1 ? `Added “${first}” beside the photo.` : `Added ${msg.count} images in a row beside the photo, starting with “${first}”.`;
  }
  return msg.count === 1 ? `Added “${first}” over the frame.` : `Added ${msg.count} images: “${first}” over the frame, the other ${msg.count - 1} in a row to its right.`;
}

const ON_MAIN: MainHandlers = Object.freeze({
  loaded: (session, msg) => {
    if (msg.key === "settings") {
      const settings = parseSettings(msg.value);
      session.set({ settings, settingsLoaded: true });
      if (settings.live) emitToMain({ type: "live", on: true });
      session.connect();
    } else {
      session.set({ history: parseHistory(msg.value) });
    }
  },
  selection: (session, msg) => {
    const { frame } = session.state;
    const changed = msg.frame?.id !== frame?.id || msg.frame?.width !== frame?.width || msg.frame?.height !== frame?.height;
    session.set({ frame: msg.frame, frameProblem: msg.problem, selectedShapes: msg.selectedShapes });
    if (changed && msg.frame) session.schedulePreview();
  },
  "frame-changed": (session) => session.schedulePreview(),
  "frame-read": (session, msg) => session.reads.answer(msg),
  "strokes-read": (session, msg) => session.reads.answer(msg),
  "photo-read": (session, msg) => session.reads.answer(msg),
  "layout-created": (session, msg) => {
    doneWith(session, msg.requestId);
    session.set({
      notice: {
        tone: "success",
        text: `Added “${msg.name}” beside the photo with ${msg.shapes} shape${msg.shapes === 1 ? "" : "s"}. Move or reshape them, then Generate: it keeps the photo's identity.`,
      },
    });
  },
  "layout-failed": (session, msg) => {
    doneWith(session, msg.requestId);
    session.set({ notice: { tone: "error", text: msg.message } });
  },
  inserted: (session, msg) => {
    doneWith(session, msg.requestId);
    const text = insertedText(msg);
    const warning = session.warnings.get(msg.requestId);
    session.warnings.delete(msg.requestId);
    session.set({ notice: warning ? { tone: "warning", text: `${text} ${warning}` } : { tone: "success", text } });
  },
  "insert-failed": (session, msg) => {
    doneWith(session, msg.requestId);
    session.set({ notice: { tone: "error", text: msg.message } });
  },
  "class-applied": (session, msg) =>
    session.set({
      notice: {
        tone: "info",
        text: msg.action === "added" ? `Added a ${msg.label} shape in the middle of the frame; drag it into place.` : `Recoloured ${msg.count} shape${msg.count === 1 ? "" : "s"} as ${msg.label}.`,
      },
    }),
  "class-failed": (session, msg) => session.set({ notice: { tone: "warning", text: msg.message } }),
});

export function onMain(session: SessionContext, msg: MainToUi): void {
  // The bridge passes on any message with a string type; one this UI doesn't know is ignored, as before.
  const handle = Object.hasOwn(ON_MAIN, msg.type) ? (ON_MAIN[msg.type] as (session: SessionContext, msg: MainToUi) => void) : undefined;
  handle?.(session, msg);
}
