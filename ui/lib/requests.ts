// The UI's ledger of requests in flight. Only the newest preview counts: starting a preview
// forgets the previous one, so its late progress, image or "replaced" error is dropped here
// (the server also replaces a preview still waiting in its queue). Final requests collect their
// images until `done`, and only then may the UI insert them, all at once.
import type { ErrorCode, ImageResult, LayoutResult, Progress, ServerMessage, Warning } from "../../protocol/index.ts";
import type { InsertTarget } from "../../plugin/messages.ts";
import { QUIET_CODES } from "./error-text.ts";

export type RequestMode = "preview" | "final";

/** What the UI does with a request's answer; the ledger only carries it. */
export interface RequestPurpose {
  /** generate: images, inserted at `target`; edit: a photo's layout (an invert request). */
  action: "generate" | "exemplar" | "edges" | "restyle" | "edit";
  /** Where results go (the frame the layout was read from, or beside the photo). */
  target: InsertTarget | null;
  /** The photo involved, for layer names and messages. */
  photo?: { nodeId: string; name: string };
  /** Layer name parts, by image index (see InsertImage.label). */
  labels?: string[];
  /** Fit layout's candidates per image: the server picks the seeds, so labels come from each image's own. */
  fit?: number;
}

export interface PendingRequest {
  id: string;
  mode: RequestMode;
  total: number;
  /** The frame the layout was read from: results go there even if the selection moved on. */
  frameId: string | null;
  purpose: RequestPurpose;
  images: (ImageResult | undefined)[];
  /** An invert request's answer, held until `done`. */
  layout?: LayoutResult;
  lastHeard: number;
}

export type Outcome =
  | { kind: "ignore" }
  | { kind: "progress"; request: PendingRequest; progress: Progress }
  | { kind: "preview"; request: PendingRequest; image: ImageResult }
  | { kind: "final-image"; request: PendingRequest; image: ImageResult }
  | { kind: "final-done"; request: PendingRequest; images: ImageResult[]; warnings: Warning[] }
  | { kind: "layout-done"; request: PendingRequest; layout: LayoutResult }
  | { kind: "preview-done"; request: PendingRequest }
  | { kind: "error"; request: PendingRequest | null; code: ErrorCode; message: string; quiet: boolean };

export class RequestBook {
  private readonly pending = new Map<string, PendingRequest>();
  private latestPreview: string | null = null;
  private counter = 0;

  constructor(
    private readonly clientTag: string,
    private readonly now: () => number = Date.now,
  ) {}

  nextId(mode: RequestMode): string {
    return `${this.clientTag}-${mode === "preview" ? "p" : "f"}${++this.counter}`;
  }

  /** Registers a request; for a preview, returns the id of the preview it supersedes (to cancel). */
  begin(id: string, mode: RequestMode, total: number, frameId: string | null, purpose?: RequestPurpose): string | null {
    let superseded: string | null = null;
    if (mode === "preview") {
      if (this.latestPreview && this.pending.has(this.latestPreview)) {
        superseded = this.latestPreview;
        this.pending.delete(this.latestPreview);
      }
      this.latestPreview = id;
    }
    const target: InsertTarget | null = frameId ? { kind: "frame", id: frameId } : null;
    this.pending.set(id, { id, mode, total, frameId, purpose: purpose ?? { action: "generate", target }, images: new Array(total).fill(undefined), lastHeard: this.now() });
    return superseded;
  }

  isLatestPreview(id: string): boolean {
    return id === this.latestPreview;
  }

  get finalInFlight(): PendingRequest | null {
    for (const r of this.pending.values()) if (r.mode === "final") return r;
    return null;
  }

  get previewInFlight(): boolean {
    return this.latestPreview !== null && this.pending.has(this.latestPreview);
  }

  receive(msg: ServerMessage): Outcome {
    if (msg.type === "welcome") return { kind: "ignore" };
    const request = msg.id !== undefined ? this.pending.get(msg.id) ?? null : null;
    if (msg.type === "error") {
      if (!request) {
        // An error about a request we forgot (a superseded preview) is expected noise;
        // one with no id at all is about the connection and the user should see it.
        if (msg.id !== undefined) return { kind: "ignore" };
        return { kind: "error", request: null, code: msg.code, message: msg.message, quiet: QUIET_CODES.has(msg.code) };
      }
      this.pending.delete(request.id);
      return { kind: "error", request, code: msg.code, message: msg.message, quiet: QUIET_CODES.has(msg.code) };
    }
    if (!request) return { kind: "ignore" };
    request.lastHeard = this.now();
    switch (msg.type) {
      case "progress":
        return { kind: "progress", request, progress: msg };
      case "image":
        if (msg.index < 0 || msg.index >= request.total) return { kind: "ignore" };
        request.images[msg.index] = msg;
        return request.mode === "preview" ? { kind: "preview", request, image: msg } : { kind: "final-image", request, image: msg };
      case "layout":
        request.layout = msg;
        return { kind: "ignore" };
      case "done": {
        this.pending.delete(request.id);
        if (request.mode === "preview") return { kind: "preview-done", request };
        if (request.purpose.action === "edit") {
          if (request.layout) return { kind: "layout-done", request, layout: request.layout };
          return { kind: "error", request, code: "internal", message: "The server finished without sending the photo's layout.", quiet: false };
        }
        const images = request.images.filter((i): i is ImageResult => i !== undefined);
        if (images.length < request.total) {
          return {
            kind: "error",
            request,
            code: "internal",
            message: `The server finished after ${images.length} of ${request.total} images.`,
            quiet: false,
          };
        }
        return { kind: "final-done", request, images, warnings: msg.warnings ?? [] };
      }
    }
  }

  /** Forgets one request (it could not be sent). */
  forget(id: string): void {
    this.pending.delete(id);
    if (this.latestPreview === id) this.latestPreview = null;
  }

  /** Forgets everything in flight (the socket closed); returns what was lost. */
  dropAll(): PendingRequest[] {
    const lost = [...this.pending.values()];
    this.pending.clear();
    this.latestPreview = null;
    return lost;
  }

  /** Requests not heard from for `ms`: the UI gives up on them and says so. */
  takeStalled(ms: number): PendingRequest[] {
    const t = this.now();
    const stalled = [...this.pending.values()].filter((r) => t - r.lastHeard > ms);
    for (const r of stalled) this.pending.delete(r.id);
    return stalled;
  }
}
