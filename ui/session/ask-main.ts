// Asking the main thread for what only it can read (the frame's shapes, its strokes, a photo's
// PNG) and waiting for the answer, or for a timeout that says Figma did not answer.
import type { FrameRead, MainToUi, PhotoRead, StrokesRead } from "../../plugin/messages.ts";
import { emitToMain } from "../bridge.ts";

const FRAME_READ_TIMEOUT_MS = 10_000;

type Answer = Extract<MainToUi, { type: "frame-read" | "strokes-read" | "photo-read" }>;

export class MainThreadReads {
  /** Asks waiting for an answer, by token (one counter for all asks), with the answer type they take. */
  private readonly waiting = new Map<number, { type: Answer["type"]; resolve: (result: Answer["result"]) => void }>();
  private token = 0;

  private ask<R extends Answer["result"]>(type: Answer["type"], send: (token: number) => void, timeout: R): Promise<R> {
    const token = ++this.token;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(token);
        resolve(timeout);
      }, FRAME_READ_TIMEOUT_MS);
      this.waiting.set(token, {
        type,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r as R);
        },
      });
      send(token);
    });
  }

  /** The main thread's answer to one of the asks below. */
  answer(msg: Answer): void {
    const asked = this.waiting.get(msg.token);
    if (asked?.type !== msg.type) return;
    asked.resolve(msg.result);
    this.waiting.delete(msg.token);
  }

  frame(): Promise<FrameRead> {
    const message = "Figma did not answer when asked for the frame's shapes. Close and reopen the plugin.";
    return this.ask<FrameRead>("frame-read", (token) => emitToMain({ type: "read-frame", token }), { ok: false, problem: { code: "frame_gone", message } });
  }

  strokes(): Promise<StrokesRead> {
    const message = "Figma did not answer when asked for the frame's strokes. Close and reopen the plugin.";
    return this.ask<StrokesRead>("strokes-read", (token) => emitToMain({ type: "read-strokes", token }), { ok: false, problem: { code: "frame_gone", message } });
  }

  /** The selected photo (or the photo with this id) as PNG, at most `maxSide` a side. */
  photo(maxSide: number, nodeId?: string): Promise<PhotoRead> {
    const message = "Figma did not answer when asked for the photo. Close and reopen the plugin.";
    return this.ask<PhotoRead>("photo-read", (token) => emitToMain({ type: "read-photo", token, nodeId, maxSide }), { ok: false, problem: { code: "export_failed", message } });
  }
}
