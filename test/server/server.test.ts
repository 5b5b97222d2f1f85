// A real server on loopback with real ONNX sessions on the default pack under models/packs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode, encode } from "fast-png";
import { silentLogger } from "../../server/log.ts";
import { base64ToBytes, bytesToBase64, CLOSE_MESSAGE_TOO_LARGE, MAX_MESSAGE_BYTES, type ErrorMessage, type ImageResult, type Progress, type ServerMessage, type Welcome } from "../../protocol/index.ts";
import { startServer, type RunningServer } from "../../server/server.ts";
import { authFetch, defaultTestPack, faceLayout, openClient, PACKS_DIR, paletteImage, TestClient, errorOf, images } from "./helpers.ts";

const pack = defaultTestPack();
const R = pack.manifest.resolution;
const layout = faceLayout(pack.manifest.classes, R);
let server: RunningServer;

const generate = (id: string, extra: Record<string, unknown> = {}) => ({
  type: "generate",
  id,
  pack: pack.name,
  condition: { kind: "mask", width: R, height: R, data: bytesToBase64(layout) },
  seed: 7,
  variations: 1,
  mode: "final",
  ...extra,
});


beforeAll(async () => {
  server = await startServer({ port: 0, packsDir: PACKS_DIR, log: silentLogger });
});
afterAll(() => server?.close());

describe("WebSocket", () => {
  it("welcomes with the packs, then answers generate with progress, PNGs of the pack's size and done", async () => {
    const c = await openClient(server);
    const welcome = await c.next<Welcome>((m) => m.type === "welcome");
    expect(welcome.packs.map((p) => p.name)).toContain(pack.name);
    expect(welcome.provider).toBe(server.engine.provider.provider);
    c.send(generate("r1", { variations: 3 }));
    const msgs = await c.result("r1");
    const stages = msgs.filter((m): m is Progress => m.type === "progress").map((m) => m.stage);
    expect(stages).toEqual(["queued", "mapping", "generating", "encoding"]);
    const imgs = images(msgs);
    expect(imgs.map((i) => i.seed)).toEqual([7, 8, 9]);
    expect(imgs.map((i) => i.index)).toEqual([0, 1, 2]);
    for (const img of imgs) {
      const png = decode(base64ToBytes(img.png));
      expect([png.width, png.height, img.width, img.height]).toEqual([R, R, R, R]);
      expect(img.timings.g2).toBeGreaterThanOrEqual(0);
      expect(img.timings.queue).toBeGreaterThanOrEqual(0);
    }
    // Variations differ from each other.
    expect(new Set(imgs.map((i) => i.png)).size).toBe(3);
    expect(msgs.at(-1)?.type).toBe("done");
    await c.close();
  });

  it("gives the same PNG bytes for the same seed, on any connection", async () => {
    const a = await openClient(server);
    const b = await openClient(server);
    a.send(generate("same", { seed: 1234, variations: 2 }));
    b.send(generate("same", { seed: 1235 }));
    const [fromA, fromB] = await Promise.all([a.result("same"), b.result("same")]);
    expect(images(fromA)[1].png).toBe(images(fromB)[0].png);
    expect(images(fromA)[0].png).not.toBe(images(fromA)[1].png);
    a.send(generate("again", { seed: 1234 }));
    expect(images(await a.result("again"))[0].png).toBe(images(fromA)[0].png);
    await Promise.all([a.close(), b.close()]);
  });

  it("replaces a waiting preview with the newer one", async () => {
    const c = await openClient(server);
    c.send(generate("busy", { variations: 8 }));
    c.send(generate("p1", { mode: "preview" }));
    c.send(generate("p2", { mode: "preview", seed: 99 }));
    const [busy, p1, p2] = await Promise.all([c.result("busy"), c.result("p1"), c.result("p2")]);
    expect(images(busy).length).toBe(8);
    expect(errorOf(p1)?.code).toBe("replaced");
    expect(images(p2).map((i) => [i.seed, i.mode])).toEqual([[99, "preview"]]);
    await c.close();
  });

  it("cancels running and waiting requests", async () => {
    const c = await openClient(server);
    c.send(generate("run", { variations: 8 }));
    c.send(generate("wait"));
    c.send({ type: "cancel", id: "wait" });
    c.send({ type: "cancel", id: "run" });
    c.send({ type: "cancel", id: "nothing" });
    const [run, wait, nothing] = await Promise.all([c.result("run"), c.result("wait"), c.result("nothing")]);
    expect(errorOf(run)?.code).toBe("cancelled");
    expect(images(run)).toEqual([]);
    expect(errorOf(wait)?.code).toBe("cancelled");
    expect(errorOf(nothing)?.code).toBe("unknown_request");
    c.send(generate("after"));
    expect(images(await c.result("after")).length).toBe(1);
    await c.close();
  });

  it("answers bad input with its error code and keeps the socket open", async () => {
    const c = await openClient(server);
    const cases: [unknown, string][] = [
      ["{not json", "bad_json"],
      [[1, 2], "bad_message"],
      [{ type: "teleport", id: "x" }, "unknown_type"],
      [generate("s1", { seed: -1 }), "bad_message"],
      [generate("s2", { seed: 2 ** 32 }), "bad_message"],
      [generate("s3", { seed: 1.5 }), "bad_message"],
      [generate("s4", { seed: "7" }), "bad_message"],
      [generate("v", { variations: 0 }), "bad_message"],
      [generate("p", { pack: "no-such-pack" }), "unknown_pack"],
      [generate("z", { condition: { kind: "mask", width: R + 1, height: R, data: bytesToBase64(new Uint8Array((R + 1) * R)) } }), "bad_mask_size"],
      [generate("z2", { condition: { kind: "mask", width: R, height: R, data: bytesToBase64(new Uint8Array(R)) } }), "bad_mask_size"],
      [generate("c", { condition: { kind: "mask", width: R, height: R, data: bytesToBase64(new Uint8Array(R * R).fill(255)) } }), "bad_class_id"],
      [generate("k", { condition: { kind: "doodle", width: R, height: R, data: "" } }), "bad_message"],
      [generate("k2", { condition: { kind: "sketch", width: R, height: R, data: "" } }), "bad_mask_size"],
    ];
    for (const [msg, code] of cases) {
      c.send(typeof msg === "string" ? msg : JSON.stringify(msg));
      const err = await c.next<ErrorMessage>((m) => m.type === "error");
      expect(err.code, JSON.stringify(msg).slice(0, 80)).toBe(code);
      expect(err.message.length).toBeGreaterThan(10);
    }
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await c.next<ErrorMessage>((m) => m.type === "error")).code).toBe("bad_message");
    c.send(generate("ok"));
    expect(images(await c.result("ok")).length).toBe(1);
    await c.close();
  });

  it("closes with 1009 on a frame over MAX_MESSAGE_BYTES; the server stays up", async () => {
    const c = await openClient(server);
    c.send("x".repeat(MAX_MESSAGE_BYTES + 1));
    await new Promise((r) => c.ws.once("close", r));
    expect(c.closed?.code).toBe(CLOSE_MESSAGE_TOO_LARGE);
    const again = await openClient(server);
    again.send(generate("ok"));
    expect(images(await again.result("ok")).length).toBe(1);
    await again.close();
  });
});

describe("HTTP", () => {
  it("GET /health says version, packs, provider and queue depth", async () => {
    const h = await (await authFetch(server, `/health`)).json();
    expect(h).toMatchObject({ status: "ok", provider: server.engine.provider.provider, defaultPack: pack.name });
    expect(h.packs).toContain(pack.name);
    expect(h.queue).toMatchObject({ waiting: 0, running: 0 });
  });

  it("GET /packs lists classes, palette colours, conditions and resolution", async () => {
    const body = await (await authFetch(server, `/packs`)).json();
    const info = body.packs.find((p: { name: string }) => p.name === pack.name);
    expect(info.resolution).toBe(R);
    expect(info.conditions).toEqual(pack.manifest.conditions.map((c) => c.kind));
    expect(info.classes.map((c: { color: string }) => c.color)).toEqual(pack.manifest.classes.map((c) => c.color));
  });

  it("POST /generate takes raw class-id bytes and answers a PNG", async () => {
    const res = await authFetch(server, `/generate?seed=7&variations=2`, { method: "POST", body: layout, headers: { "content-type": "application/octet-stream" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("x-phototype-seeds")).toBe("7,8");
    const png = decode(new Uint8Array(await res.arrayBuffer()));
    expect([png.width, png.height]).toEqual([2 * R, R]);
  });

  it("POST /generate takes JSON and gives the same image as the WebSocket", async () => {
    const rows = Array.from({ length: R }, (_, y) => Array.from(layout.subarray(y * R, (y + 1) * R)));
    const res = await authFetch(server, `/generate`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ mask: rows, seed: 7, format: "json" }) });
    expect(res.status).toBe(200);
    const body = await res.json();
    const c = await openClient(server);
    c.send(generate("ws"));
    expect(images(await c.result("ws"))[0].png).toBe(body.images[0].png);
    await c.close();
  });

  it("POST /generate snaps a palette PNG of another size to the pack's classes", async () => {
    const big = faceLayout(pack.manifest.classes, 2 * R);
    const png = encode({ width: 2 * R, height: 2 * R, data: paletteImage(pack.manifest.classes, big), channels: 4, depth: 8 });
    const res = await authFetch(server, `/generate?seed=3&format=json`, { method: "POST", headers: { "content-type": "image/png" }, body: new Uint8Array(png) });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body.note).toMatch(/resized/);
    expect(decode(base64ToBytes(body.images[0].png)).width).toBe(R);
  });

  it("POST /generate uses a non-square PNG's centre square and explains a greyscale export", async () => {
    const bgId = pack.manifest.classes.find((c) => c.name === "background")!.id;
    const wide = new Uint8Array(2 * R * R).fill(bgId);
    for (let y = 0; y < R; y++) wide.set(layout.subarray(y * R, (y + 1) * R), y * 2 * R + R / 2);
    const post = (png: Uint8Array) =>
      authFetch(server, `/generate?seed=11&format=json`, { method: "POST", headers: { "content-type": "image/png" }, body: png as Uint8Array<ArrayBuffer> });
    const fromWide = await post(encode({ width: 2 * R, height: R, data: wide, channels: 1, depth: 8 }));
    const fromSquare = await post(encode({ width: R, height: R, data: layout, channels: 1, depth: 8 }));
    const [w, q] = [await fromWide.json(), await fromSquare.json()];
    expect(w.note).toMatch(new RegExp(`centre ${R}x${R} square of the ${2 * R}x${R} mask`));
    expect(w.images[0].png).toBe(q.images[0].png);

    const rgba = paletteImage(pack.manifest.classes, layout);
    const grey = Uint8Array.from({ length: R * R }, (_, p) => Math.round(0.299 * rgba[p * 4] + 0.587 * rgba[p * 4 + 1] + 0.114 * rgba[p * 4 + 2]));
    const res = await post(encode({ width: R, height: R, data: grey, channels: 1, depth: 8 }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "bad_image", message: expect.stringMatching(/colours were lost .* export it again as a colour PNG/) });
  });

  it("warns, without refusing, when no face is drawn: HTTP header, JSON and the WebSocket's done", async () => {
    const empty = new Uint8Array(R * R).fill(pack.manifest.classes.find((c) => c.name === "background")!.id);
    const png = await authFetch(server, `/generate?seed=1`, { method: "POST", body: empty });
    expect(png.status).toBe(200);
    expect(png.headers.get("x-phototype-warning")).toMatch(/^no_face_drawn: No face was drawn/);
    const json = await (await authFetch(server, `/generate?seed=1&format=json`, { method: "POST", body: empty })).json();
    expect(json.warnings).toEqual([{ code: "no_face_drawn", message: expect.stringMatching(/No face was drawn/) }]);
    const c = await openClient(server);
    c.send(generate("blank", { condition: { kind: "mask", width: R, height: R, data: bytesToBase64(empty) } }));
    c.send(generate("face"));
    const [blank, face] = [(await c.result("blank")).at(-1), (await c.result("face")).at(-1)];
    expect(blank).toMatchObject({ type: "done", warnings: [{ code: "no_face_drawn" }] });
    expect(face).toMatchObject({ type: "done" });
    expect(face).not.toHaveProperty("warnings");
    await c.close();
  });

  it("POST /generate answers bad input with JSON errors and HTTP status", async () => {
    const post = (query: string, body: BodyInit, type = "application/octet-stream") =>
      authFetch(server, `/generate${query}`, { method: "POST", body, headers: { "content-type": type } });
    const expectError = async (res: Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect((await res.json()).code).toBe(code);
    };
    await expectError(await post("", new Uint8Array(5)), 400, "bad_mask_size");
    await expectError(await post("", new Uint8Array(R * R).fill(200)), 400, "bad_class_id");
    await expectError(await post("?seed=-1", layout), 400, "bad_message");
    await expectError(await post("?seed=abc", layout), 400, "bad_message");
    await expectError(await post("?pack=nope", layout), 404, "unknown_pack");
    await expectError(await post("", "{", "application/json"), 400, "bad_json");
    await expectError(await post("", JSON.stringify({ seed: 1 }), "application/json"), 400, "bad_message");
    await expectError(await post("", JSON.stringify({ png: bytesToBase64(Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10, 0])) }), "application/json"), 400, "bad_image");
    await expectError(await post("", new Uint8Array(MAX_MESSAGE_BYTES + 1)), 413, "message_too_large");
    await expectError(await authFetch(server, `/nope`), 404, "not_found");
  });
});

describe("origins", () => {
  it("refuses other web origins on HTTP and WebSocket; accepts null, none and localhost", async () => {
    expect((await authFetch(server, `/health`, { headers: { origin: "https://evil.example" } })).status).toBe(403);
    for (const origin of ["null", "http://localhost:5173", "https://127.0.0.1"]) {
      const res = await authFetch(server, `/health`, { headers: { origin } });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
    }
    // A preflight is answered without the code (browsers send none with it), for allowed origins only.
    const preflight = await fetch(`${server.url}/generate`, { method: "OPTIONS", headers: { origin: "null", "access-control-request-method": "POST", "access-control-request-headers": "authorization" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/authorization/i);
    await expect(openClient(server, { origin: "https://evil.example" })).rejects.toThrow(/403/);
    const figma = await openClient(server, { origin: "null" });
    await figma.close();
    await expect(TestClient.open(server.wsUrl.replace(/\/ws$/, "/elsewhere"))).rejects.toThrow(/404/);
  });

  it("refuses a public bind without an explicit token", async () => {
    await expect(startServer({ port: 0, host: "0.0.0.0", packsDir: PACKS_DIR, log: silentLogger })).rejects.toThrow(/token/);
  });
});

describe("timeout", () => {
  it("answers timeout when a request outlives the server's limit", async () => {
    const quick = await startServer({ port: 0, packsDir: PACKS_DIR, log: silentLogger, queue: { timeoutMs: 1 } });
    try {
      const c = await openClient(quick);
      c.send(generate("slow", { variations: 8 }));
      expect(errorOf(await c.result("slow"))?.code).toBe("timeout");
      await c.close();
      expect(quick.engine.queue.stats()).toMatchObject({ waiting: 0, running: 0 });
    } finally {
      await quick.close();
    }
  });
});
