import { describe, expect, it } from "vitest";
import type { ImageResult, ServerMessage } from "../../protocol/index.ts";
import { RequestBook } from "../../ui/lib/requests.ts";

const image = (id: string, index = 0, total = 1, seed = 7): ImageResult => ({
  type: "image",
  id,
  index,
  total,
  seed,
  pack: "p",
  width: 32,
  height: 32,
  mode: "preview",
  png: "AAAA",
  timings: {},
});

describe("request book", () => {
  it("gives unique ids", () => {
    const book = new RequestBook("abc");
    expect(new Set([book.nextId("preview"), book.nextId("preview"), book.nextId("final")]).size).toBe(3);
  });

  it("drops everything about a superseded preview", () => {
    const book = new RequestBook("t");
    expect(book.begin("p1", "preview", 1, "f")).toBeNull();
    expect(book.begin("p2", "preview", 1, "f")).toBe("p1");
    expect(book.receive(image("p1")).kind).toBe("ignore");
    expect(book.receive({ type: "progress", id: "p1", stage: "generating", done: 0, total: 1 }).kind).toBe("ignore");
    expect(book.receive({ type: "error", id: "p1", code: "replaced", message: "x" }).kind).toBe("ignore");
    const shown = book.receive(image("p2"));
    expect(shown.kind).toBe("preview");
    expect(book.receive({ type: "done", id: "p2", totalMs: 1 }).kind).toBe("preview-done");
    // Once done, a late duplicate is not shown again.
    expect(book.receive(image("p2")).kind).toBe("ignore");
  });

  it("collects a final request's images and releases them at done, in index order", () => {
    const book = new RequestBook("t");
    book.begin("f1", "final", 3, "frame");
    expect(book.finalInFlight?.id).toBe("f1");
    for (const i of [2, 0, 1]) expect(book.receive(image("f1", i, 3, 100 + i)).kind).toBe("final-image");
    const out = book.receive({ type: "done", id: "f1", totalMs: 5 });
    expect(out.kind).toBe("final-done");
    if (out.kind !== "final-done") return;
    expect(out.images.map((i) => i.seed)).toEqual([100, 101, 102]);
    expect(out.request.frameId).toBe("frame");
    expect(book.finalInFlight).toBeNull();
  });

  it("reports a final that ends short of images as an error", () => {
    const book = new RequestBook("t");
    book.begin("f1", "final", 2, "frame");
    book.receive(image("f1", 0, 2));
    const out = book.receive({ type: "done", id: "f1", totalMs: 5 });
    expect(out.kind).toBe("error");
  });

  it("keeps previews and finals apart", () => {
    const book = new RequestBook("t");
    book.begin("f1", "final", 1, "frame");
    book.begin("p1", "preview", 1, "frame");
    book.begin("p2", "preview", 1, "frame");
    expect(book.receive(image("f1")).kind).toBe("final-image");
  });

  it("marks replaced and cancelled as quiet, other errors not", () => {
    const book = new RequestBook("t");
    book.begin("f1", "final", 1, "frame");
    const err = book.receive({ type: "error", id: "f1", code: "queue_full", message: "busy" });
    expect(err).toMatchObject({ kind: "error", quiet: false, code: "queue_full" });
    book.begin("p1", "preview", 1, "frame");
    expect(book.receive({ type: "error", id: "p1", code: "replaced", message: "x" })).toMatchObject({ kind: "error", quiet: true });
    const general: ServerMessage = { type: "error", code: "bad_json", message: "?" };
    expect(book.receive(general)).toMatchObject({ kind: "error", request: null, quiet: false });
  });

  it("hands back what was lost when the socket drops", () => {
    const book = new RequestBook("t");
    book.begin("f1", "final", 1, "frame");
    book.begin("p1", "preview", 1, "frame");
    expect(book.dropAll().map((r) => r.id).sort()).toEqual(["f1", "p1"]);
    expect(book.receive(image("p1")).kind).toBe("ignore");
    expect(book.previewInFlight).toBe(false);
  });

  it("gives up on requests the server has not mentioned for too long", () => {
    let now = 0;
    const book = new RequestBook("t", () => now);
    book.begin("f1", "final", 1, "frame");
    book.begin("f2", "final", 1, "frame");
    now = 50;
    book.receive({ type: "progress", id: "f2", stage: "generating", done: 0, total: 1 });
    now = 120;
    expect(book.takeStalled(100).map((r) => r.id)).toEqual(["f1"]);
    expect(book.finalInFlight?.id).toBe("f2");
  });

  it("holds an invert request's layout until done, and carries what to do with the answer", () => {
    const book = new RequestBook("t");
    const purpose = { action: "edit" as const, target: null, photo: { nodeId: "9:1", name: "Portrait" } };
    book.begin("e1", "final", 1, null, purpose);
    const layout = { type: "layout" as const, id: "e1", pack: "p", width: 2, height: 2, data: "AAAAAA==", polygons: [], timings: {} };
    expect(book.receive({ type: "progress", id: "e1", stage: "tracing", done: 0, total: 1 }).kind).toBe("progress");
    expect(book.receive(layout).kind).toBe("ignore");
    const done = book.receive({ type: "done", id: "e1", totalMs: 3 });
    expect(done).toMatchObject({ kind: "layout-done", layout, request: { purpose } });
    // Done without a layout is a failure, said plainly.
    book.begin("e2", "final", 1, null, purpose);
    expect(book.receive({ type: "done", id: "e2", totalMs: 3 })).toMatchObject({ kind: "error", code: "internal" });
    // A generate request's target defaults to its frame.
    book.begin("g1", "final", 1, "frame-1");
    expect(book.finalInFlight?.purpose).toEqual({ action: "generate", target: { kind: "frame", id: "frame-1" } });
  });
});
