// The photo and drawing features on a real server with real ONNX sessions (the default pack under
// models/packs, found through the registry): sketch, scribble and edge conditions, exemplar
// layouts, inverting a photo into shapes, a photo's identity, per-region restyle, and their errors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode, encode } from "fast-png";
import { silentLogger } from "../../server/log.ts";
import { rasterizePolygons } from "../../server/pipeline/contours.ts";
import { encodeRgbaPng, imageToRgba } from "../../server/pipeline/image.ts";
import { readPhoto } from "../../server/pipeline/photo.ts";
import { variationSeeds } from "../../server/pipeline/prng.ts";
import { tileMask } from "../../server/pipeline/proxy-mask.ts";
import { photoProxies } from "../../server/pipeline/photo-layout.ts";
import { encodePhotos, latentsFor, mapLatents, parseImages, photoTensor, proxyOf, rearrange, render, synthesizeFeatures } from "../../server/pipeline/stages.ts";
import {
  base64ToBytes,
  bytesToBase64,
  CLOSE_UNAUTHORIZED,
  NO_STROKE,
  type ErrorMessage,
  type ImageResult,
  type LayoutResult,
  type Progress,
  type ServerMessage,
  type Welcome,
} from "../../protocol/index.ts";
import { startServer, type RunningServer } from "../../server/server.ts";
import { authFetch, defaultTestPack, faceLayout, openClient, PACKS_DIR, TestClient, errorOf, images } from "./helpers.ts";
import { flatRgb, rgbPng } from "./images.ts";

const pack = defaultTestPack();
const m = pack.manifest;
const R = m.resolution;
const layout = faceLayout(m.classes, R);
const id = (name: string) => m.classes.find((c) => c.name === name)!.id;
const bg = id("background");
let server: RunningServer;
let client: TestClient;
/** Faces the pack itself generated, used as "photos" (never the dataset's test split). */
let photos: Uint8Array[] = [];

const b64 = bytesToBase64;
const mask = (data: Uint8Array) => ({ kind: "mask", width: R, height: R, data: b64(data) });

let counter = 0;
async function ask(body: Record<string, unknown>): Promise<ServerMessage[]> {
  const rid = `q${++counter}`;
  client.send({ type: "generate", id: rid, pack: pack.name, seed: 11, variations: 1, mode: "final", ...body });
  return client.result(rid);
}
async function invert(photo: Uint8Array): Promise<ServerMessage[]> {
  const rid = `i${++counter}`;
  client.send({ type: "invert", id: rid, pack: pack.name, photo: b64(photo) });
  return client.result(rid);
}

/** Outline of the face layout's parts as 1-pixel strokes: what a designer's pen sketch becomes. */
function sketchOf(classMap: Uint8Array): Uint8Array {
  const out = new Uint8Array(R * R);
  for (let y = 0; y < R; y++) {
    for (let x = 0; x < R; x++) {
      const v = classMap[y * R + x];
      if (v === bg) continue;
      const edge = [[1, 0], [0, 1]].some(([dx, dy]) => x + dx < R && y + dy < R && classMap[(y + dy) * R + x + dx] !== v);
      if (edge) out[y * R + x] = 1;
    }
  }
  return out;
}

/** A horizontal stroke through the middle of each part: a scribble. */
function scribbleOf(classMap: Uint8Array): Uint8Array {
  const out = new Uint8Array(R * R).fill(NO_STROKE);
  for (const c of new Set(classMap)) {
    const ys: number[] = [];
    classMap.forEach((v, i) => v === c && ys.push(Math.floor(i / R)));
    const row = ys[Math.floor(ys.length / 2)];
    for (let x = 0; x < R; x++) if (classMap[row * R + x] === c) out[row * R + x] = c;
  }
  return out;
}

function upscale2(png: Uint8Array): Uint8Array {
  const img = decode(png);
  const c = img.channels;
  const out = new Uint8Array(img.width * 2 * img.height * 2 * c);
  for (let y = 0; y < img.height * 2; y++) {
    for (let x = 0; x < img.width * 2; x++) {
      for (let k = 0; k < c; k++) out[(y * img.width * 2 + x) * c + k] = (img.data as Uint8Array)[((y >> 1) * img.width + (x >> 1)) * c + k];
    }
  }
  return encode({ width: img.width * 2, height: img.height * 2, data: out, channels: c, depth: 8 });
}

/** Mean absolute difference of two PNGs over the pixels where `where` is true. */
function meanDiff(a: Uint8Array, b: Uint8Array, where: (p: number) => boolean): number {
  const da = decode(a).data as Uint8Array, db = decode(b).data as Uint8Array;
  let sum = 0, n = 0;
  for (let p = 0; p < R * R; p++) {
    if (!where(p)) continue;
    for (let c = 0; c < 3; c++) sum += Math.abs(da[p * 4 + c] - db[p * 4 + c]);
    n += 3;
  }
  return sum / n;
}

beforeAll(async () => {
  server = await startServer({ port: 0, packsDir: PACKS_DIR, log: silentLogger });
  client = await openClient(server);
  await client.next((x) => x.type === "welcome");
  const made = images(await ask({ condition: mask(layout), seed: 100, variations: 4 }));
  photos = made.map((i) => base64ToBytes(i.png));
});
afterAll(async () => {
  await client?.close();
  await server?.close();
});

describe("pack info", () => {
  it("welcome says the background class, the licence's commercial use and what the pack can do", async () => {
    const c = await openClient(server);
    const w = await c.next<Welcome>((x) => x.type === "welcome");
    const info = w.packs.find((p) => p.name === pack.name)!;
    expect(info.backgroundClass).toBe(bg);
    expect(info.commercialUse).toBe(false);
    expect(info.conditions).toEqual(m.conditions.map((c) => c.kind));
    expect(info.capabilities).toEqual(["exemplar", "edit", "restyle"].filter((cap) => cap === "restyle" || m.networks.encoder));
    await c.close();
  });
});

describe("sketch, scribble and edge conditions", () => {
  it("makes faces from a sketch, a scribble and a photo's edges, each through its own mapper", async () => {
    const plain = images(await ask({ condition: mask(layout) }))[0];
    const sketch = await ask({ condition: { kind: "sketch", width: R, height: R, data: b64(sketchOf(layout)) }, variations: 2 });
    const scribble = await ask({ condition: { kind: "scribble", width: R, height: R, data: b64(scribbleOf(layout)) } });
    const edges = await ask({ condition: { kind: "edges", photo: b64(upscale2(photos[0])) } });
    for (const msgs of [sketch, scribble, edges]) {
      expect(errorOf(msgs)).toBeUndefined();
      for (const img of images(msgs)) expect([img.width, img.height, decode(base64ToBytes(img.png)).width]).toEqual([R, R, R]);
    }
    expect(images(sketch).map((i) => i.seed)).toEqual([11, 12]);
    expect(images(edges)[0].timings.edges).toBeGreaterThanOrEqual(0);
    expect(images(edges)[0].timings.decode).toBeGreaterThanOrEqual(0);
    // Different conditions give different layouts, so different pictures from the same seed.
    const pngs = new Set([plain.png, images(sketch)[0].png, images(scribble)[0].png, images(edges)[0].png]);
    expect(pngs.size).toBe(4);
    // Deterministic: the same edges request gives the same bytes.
    expect(images(await ask({ condition: { kind: "edges", photo: b64(upscale2(photos[0])) } }))[0].png).toBe(images(edges)[0].png);
  });

  it("refuses an empty sketch or scribble, unknown scribble classes and wrong sizes", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: "sketch", width: R, height: R, data: b64(new Uint8Array(R * R)) }, "empty_condition"],
      [{ kind: "scribble", width: R, height: R, data: b64(new Uint8Array(R * R).fill(NO_STROKE)) }, "empty_condition"],
      [{ kind: "scribble", width: R, height: R, data: b64(new Uint8Array(R * R).fill(200)) }, "bad_class_id"],
      [{ kind: "sketch", width: R, height: R, data: b64(new Uint8Array(R)) }, "bad_mask_size"],
      [{ kind: "edges", photo: "" }, "bad_image"],
      [{ kind: "edges" }, "bad_message"],
      [{ kind: "doodle", width: R, height: R, data: "" }, "bad_message"],
    ];
    for (const [condition, code] of cases) {
      const err = errorOf(await ask({ condition }));
      expect(err?.code, JSON.stringify(condition).slice(0, 60)).toBe(code);
      expect(err!.message.length).toBeGreaterThan(15);
    }
  });
});

describe("exemplar layouts", () => {
  it("gives a photo's layout (by the pack's photoLayout route) to new seeds", async () => {
    const msgs = await ask({ condition: { kind: "exemplar", photo: b64(photos[1]) }, seed: 40, variations: 3 });
    const stages = msgs.filter((x): x is Progress => x.type === "progress").map((x) => x.stage);
    expect(stages).toContain("reading");
    const imgs = images(msgs);
    expect(imgs.map((i) => i.seed)).toEqual([40, 41, 42]);
    expect(new Set(imgs.map((i) => i.png)).size).toBe(3);
    expect(imgs[0].timings.parser).toBeGreaterThanOrEqual(0);
    // The layout really is the photo's: the answer equals the stages composed by hand, the pack's
    // route (parser -> mapper.mask -> argmax, or encoder -> proxy) as the target and
    // seeds -> mapping -> g1 -> proxy -> rearranger -> g2.
    const rt = server.engine.runtimes.get(pack.name)!;
    const photo = readPhoto(photos[1], R);
    const input = photoTensor([photo]);
    const target = m.photoLayout === "parser"
      ? await photoProxies(rt, { classMaps: await parseImages(rt, input) }, "parser")
      : await photoProxies(rt, { features: (await encodePhotos(rt, input)).features }, "encoder");
    const seeds = variationSeeds(40, 3);
    const { features, style } = await synthesizeFeatures(rt, await mapLatents(rt, latentsFor(rt, seeds), m.truncation));
    const arranged = await rearrange(rt, features, await proxyOf(rt, features), tileMask(target, 3));
    const out = (await render(rt, arranged, style)).data as Float32Array;
    for (let i = 0; i < 3; i++) expect(imgs[i].png).toBe(bytesToBase64(encodeRgbaPng(imageToRgba(out, 3, R, R, i), R, R)));
  });
});

describe("editing a real photo", () => {
  it("inverts a photo into class ids and polygons that rebuild them", async () => {
    const msgs = await invert(upscale2(photos[0]));
    expect(msgs.filter((x): x is Progress => x.type === "progress").map((x) => x.stage)).toEqual(["queued", "reading", "tracing"]);
    const layoutMsg = msgs.find((x): x is LayoutResult => x.type === "layout")!;
    expect(msgs.at(-1)?.type).toBe("done");
    expect([layoutMsg.width, layoutMsg.height]).toEqual([R, R]);
    const classMap = base64ToBytes(layoutMsg.data);
    expect(classMap.length).toBe(R * R);
    const ids = new Set(m.classes.map((c) => c.id));
    expect([...classMap].every((v) => ids.has(v))).toBe(true);
    expect(layoutMsg.polygons.length).toBeGreaterThan(0);
    for (const p of layoutMsg.polygons) {
      expect(p.classId).not.toBe(bg);
      expect(p.points.length).toBeGreaterThanOrEqual(6);
      expect(p.points.every((v) => v >= 0 && v <= R)).toBe(true);
    }
    const redrawn = rasterizePolygons(layoutMsg.polygons.map((p) => ({ ...p, area: 0 })), R, R, bg);
    const same = redrawn.reduce((a, v, i) => a + (v === classMap[i] ? 1 : 0), 0);
    expect(same / classMap.length).toBeGreaterThan(0.85);
    expect(layoutMsg.timings.parser).toBeGreaterThanOrEqual(0);
    expect(layoutMsg.timings.trace).toBeGreaterThanOrEqual(0);
  });

  it("generates the photo's person in a new layout (source photo): same request, same bytes; another photo, another face", async () => {
    const a = await ask({ condition: mask(layout), source: { kind: "photo", photo: b64(photos[0]) } });
    expect(errorOf(a)).toBeUndefined();
    const again = await ask({ condition: mask(layout), source: { kind: "photo", photo: b64(photos[0]) }, seed: 999 });
    const b = await ask({ condition: mask(layout), source: { kind: "photo", photo: b64(photos[3]) } });
    const seeded = await ask({ condition: mask(layout) });
    expect(images(a)).toHaveLength(1);
    expect(images(a)[0].timings.source_encoder).toBeGreaterThanOrEqual(0);
    // The seed plays no part: the photo gives the face.
    expect(images(again)[0].png).toBe(images(a)[0].png);
    expect(images(b)[0].png).not.toBe(images(a)[0].png);
    expect(images(seeded)[0].png).not.toBe(images(a)[0].png);
    expect(errorOf(await ask({ condition: mask(layout), source: { kind: "photo", photo: b64(photos[0]) }, variations: 2 }))?.code).toBe("bad_message");
  });

  it("refuses photos too small, without a face, or not PNG", async () => {
    const small = rgbPng(flatRgb(R / 2, R * 2, 90), R / 2, R * 2);
    const grey = rgbPng(flatRgb(R * 2, R * 2, 128), R * 2, R * 2);
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70]);
    for (const [photo, code] of [
      [small, "image_too_small"],
      [grey, "no_face"],
      [jpeg, "bad_image"],
    ] as const) {
      for (const msgs of [
        await invert(photo),
        await ask({ condition: { kind: "exemplar", photo: b64(photo) } }),
        await ask({ condition: mask(layout), source: { kind: "photo", photo: b64(photo) } }),
      ]) {
        const err = errorOf(msgs);
        expect(err?.code).toBe(code);
        expect(images(msgs)).toEqual([]);
      }
    }
    const err = errorOf(await invert(small))!;
    expect(err.message).toMatch(new RegExp(`${R / 2} × ${R * 2} px; this pack needs at least ${R} × ${R}`));
    expect(errorOf(await invert(grey))!.message).toMatch(/No face found/);
  });
});

describe("per-region restyle", () => {
  const hair = id("hair");
  const inHair = (p: number) => layout[p] === hair;
  // Pixels at least 3 px from any hair pixel: g2's convolutions may blur the seam, nothing more.
  const far = (() => {
    const out = new Uint8Array(R * R);
    for (let p = 0; p < R * R; p++) {
      const x = p % R, y = Math.floor(p / R);
      let near = false;
      for (let dy = -3; dy <= 3 && !near; dy++) for (let dx = -3; dx <= 3 && !near; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < R && yy < R && layout[yy * R + xx] === hair) near = true;
      }
      out[p] = near ? 0 : 1;
    }
    return out;
  })();

  it("resamples the hair from other seeds and keeps the rest", async () => {
    const original = images(await ask({ condition: mask(layout), seed: 5 }))[0];
    const msgs = await ask({ condition: mask(layout), seed: 5, variations: 3, restyle: { classes: [hair], seed: 300 } });
    const imgs = images(msgs);
    expect(imgs.map((i) => [i.seed, i.restyleSeed])).toEqual([
      [5, 300],
      [5, 301],
      [5, 302],
    ]);
    expect(imgs[0].timings.blend).toBeGreaterThanOrEqual(0);
    const o = base64ToBytes(original.png);
    for (const img of imgs) {
      const r = base64ToBytes(img.png);
      const hairDiff = meanDiff(o, r, inHair);
      const restDiff = meanDiff(o, r, (p) => far[p] === 1);
      expect(hairDiff).toBeGreaterThan(2 * restDiff);
    }
    expect(new Set(imgs.map((i) => i.png)).size).toBe(3);
  });

  it("restyles a sketch's region by parsing the first render; refuses a part the layout lacks", async () => {
    const msgs = await ask({ condition: { kind: "sketch", width: R, height: R, data: b64(sketchOf(layout)) }, restyle: { classes: [hair], seed: 7 } });
    const err = errorOf(msgs);
    // A barely trained pack may see no hair in its own render; then the answer must say so.
    if (err) expect(err.code).toBe("empty_region");
    else expect(images(msgs)[0].timings.restyle_parse).toBeGreaterThanOrEqual(0);
    const noHat = errorOf(await ask({ condition: mask(layout), restyle: { classes: [id("hat")], seed: 7 } }));
    expect(noHat?.code).toBe("empty_region");
    expect(noHat?.message).toMatch(/no Hat to restyle/);
    expect(errorOf(await ask({ condition: mask(layout), restyle: { classes: [250], seed: 7 } }))?.code).toBe("bad_class_id");
  });

  it("restyles with a photo's identity (the edit flow's restyle)", async () => {
    const base = images(await ask({ condition: mask(layout), source: { kind: "photo", photo: b64(photos[0]) } }))[0];
    const restyled = images(await ask({ condition: mask(layout), source: { kind: "photo", photo: b64(photos[0]) }, variations: 2, restyle: { classes: [hair], seed: 1 } }));
    expect(restyled).toHaveLength(2);
    const o = base64ToBytes(base.png);
    expect(meanDiff(o, base64ToBytes(restyled[0].png), inHair)).toBeGreaterThan(meanDiff(o, base64ToBytes(restyled[0].png), (p) => far[p] === 1));
  });
});

describe("connection manners", () => {
  it("answers a cancel that comes after its request finished with nothing", async () => {
    const c = await openClient(server);
    c.send({ type: "generate", id: "late", pack: pack.name, condition: mask(layout), seed: 1, variations: 1, mode: "final" });
    await c.result("late");
    c.send({ type: "cancel", id: "late" });
    c.send({ type: "cancel", id: "never-sent" });
    const next = await c.next<ErrorMessage>((x) => x.type === "error");
    expect([next.id, next.code]).toEqual(["never-sent", "unknown_request"]);
    expect(c.messages.filter((x) => "id" in x && x.id === "late")).toEqual([]);
    await c.close();
  });

  it("reads photos off the event loop: at most 2 at a time per connection, and a cancel while reading answers cancelled", async () => {
    // A noisy 1536 px photo takes a while to decode, so the next messages arrive while it is read.
    const side = 1536;
    const noisy = Uint8Array.from({ length: side * side * 3 }, (_, i) => (i * 2654435761) >>> 24);
    const big = b64(rgbPng(noisy, side, side));
    const c = await openClient(server);
    const edges = (id: string) => ({ type: "generate", id, pack: pack.name, condition: { kind: "edges", photo: big }, seed: 1, variations: 1, mode: "final" });
    c.send(edges("read-1"));
    c.send(edges("read-2"));
    c.send(edges("read-3"));
    c.send({ type: "cancel", id: "read-2" });
    const third = (await c.result("read-3")).at(-1) as ErrorMessage;
    expect(third.code).toBe("rate_limited");
    const second = await c.result("read-2");
    expect(second.map((x) => [x.type, x.type === "error" ? x.code : ""])).toEqual([["error", "cancelled"]]);
    const first = await c.result("read-1");
    expect(first.at(-1)?.type).toBe("done");
    // The cancelled one never runs: nothing more arrives for it.
    await new Promise((r) => setTimeout(r, 300));
    expect(c.messages.filter((x) => "id" in x && x.id === "read-2")).toEqual([]);
    await c.close();
  });

  it("tells a client without the right pairing code why, then closes with 4401", async () => {
    const guarded = await startServer({ port: 0, token: "s3cret", packsDir: PACKS_DIR, log: silentLogger, warmup: false });
    try {
      for (const url of [guarded.wsUrl, `${guarded.wsUrl}?token=wrong`]) {
        const c = await TestClient.open(url);
        const err = await c.next<ErrorMessage>((x) => x.type === "error");
        expect(err.code).toBe("unauthorized");
        expect(err.message).toMatch(/pairing code.*npx phototype pair/);
        await new Promise((r) => (c.closed ? r(null) : c.ws.once("close", r)));
        expect(c.closed?.code).toBe(CLOSE_UNAUTHORIZED);
        expect(c.messages.some((x) => x.type === "welcome")).toBe(false);
      }
    } finally {
      await guarded.close();
    }
  });

  it("POST /generate takes the new conditions as JSON too", async () => {
    const res = await authFetch(server, `/generate?format=json`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ condition: { kind: "sketch", width: R, height: R, data: b64(sketchOf(layout)) }, seed: 3 }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).images).toHaveLength(1);
    const bad = await authFetch(server, `/generate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ condition: { kind: "exemplar", photo: b64(rgbPng(flatRgb(R, R, 128), R, R)) } }),
    });
    expect(bad.status).toBe(422);
    expect((await bad.json()).code).toBe("no_face");
  });
});
