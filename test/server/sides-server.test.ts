// Left and right by position on a real server on loopback with the default pack's real ONNX
// sessions: a face drawn with its eyes, brows and ears in the other side's colours, or all in one
// colour, is the same drawing as the right one, and gives the same image for the same seed, over
// the WebSocket (masks and scribbles) and as an HTTP mask PNG; fitting the layout scores the
// drawing with its parts on their sides; restyling "the eye" restyles both eyes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encode } from "fast-png";
import { silentLogger } from "../../server/log.ts";
import { bytesToBase64, NO_STROKE, type ImageResult, type ServerMessage, type Welcome } from "../../protocol/index.ts";
import { startServer, type RunningServer } from "../../server/server.ts";
import { authFetch, defaultTestPack, faceLayout, openClient, PACKS_DIR, paletteImage, TestClient } from "./helpers.ts";

const pack = defaultTestPack();
const m = pack.manifest;
const R = m.resolution;
const id = (name: string) => m.classes.find((c) => c.name === name)!.id;
let server: RunningServer;
let client: TestClient;

/** The helpers' frontal face with an ear on each side, every part in its right class. */
function faceWithEars(): Uint8Array {
  const face = faceLayout(m.classes, R);
  const free = new Set([id("background"), id("hair")]);
  for (let y = 0; y < R; y++) {
    for (let x = 0; x < R; x++) {
      const u = (x + 0.5) / R, v = (y + 0.5) / R;
      const ear = (cx: number) => ((u - cx) / 0.035) ** 2 + ((v - 0.5) / 0.07) ** 2 <= 1;
      if (!free.has(face[y * R + x])) continue;
      if (ear(0.77)) face[y * R + x] = id("l_ear"); // the person's left: the image's right
      if (ear(0.23)) face[y * R + x] = id("r_ear");
    }
  }
  return face;
}

const SWAP = new Map([
  ["l_eye", "r_eye"], ["r_eye", "l_eye"], ["l_brow", "r_brow"], ["r_brow", "l_brow"], ["l_ear", "r_ear"], ["r_ear", "l_ear"],
].map(([a, b]) => [id(a), id(b)]));
const ONE_COLOUR = new Map([["r_eye", "l_eye"], ["r_brow", "l_brow"], ["r_ear", "l_ear"]].map(([a, b]) => [id(a), id(b)]));
const recolour = (map: Uint8Array, how: Map<number, number>) => map.map((v) => how.get(v) ?? v);

const right = faceWithEars();
const swapped = recolour(right, SWAP);
const oneColour = recolour(right, ONE_COLOUR);

let counter = 0;
async function resultOf(body: Record<string, unknown>): Promise<ImageResult> {
  const rid = `s${++counter}`;
  client.send({ type: "generate", id: rid, pack: pack.name, seed: 7, variations: 1, mode: "final", ...body });
  const msgs: ServerMessage[] = await client.result(rid, 120_000);
  const image = msgs.find((x): x is ImageResult => x.type === "image");
  if (!image) throw new Error(`no image: ${JSON.stringify(msgs.at(-1))}`);
  return image;
}
const imageOf = async (body: Record<string, unknown>) => (await resultOf(body)).png;
const mask = (data: Uint8Array) => ({ kind: "mask", width: R, height: R, data: bytesToBase64(data) });

beforeAll(async () => {
  server = await startServer({ port: 0, packsDir: PACKS_DIR, log: silentLogger, session: { intraOpNumThreads: 1 } });
  client = await openClient(server);
});
afterAll(async () => {
  await client?.close();
  await server?.close();
});

describe("left and right by position, through the server", () => {
  it("the welcome names Eye, Brow and Ear as one part each", async () => {
    const welcome = await client.next<Welcome>((x) => x.type === "welcome");
    const info = welcome.packs.find((p) => p.name === pack.name)!;
    expect(info.sidePairs?.map((p) => p.label)).toEqual(["Eye", "Brow", "Ear"]);
    expect(info.sidePairs?.[0]).toEqual({ label: "Eye", imageLeft: id("r_eye"), imageRight: id("l_eye") });
  });

  it("a face with its sides swapped, or each part in one colour, gives the right face's image", async () => {
    expect(swapped).not.toEqual(right);
    const expected = await imageOf({ condition: mask(right) });
    expect(await imageOf({ condition: mask(swapped) })).toBe(expected);
    expect(await imageOf({ condition: mask(oneColour) })).toBe(expected);
  });

  it("a scribble in one colour a part gives the right scribble's image", async () => {
    // Strokes only where parts are drawn; NO_STROKE elsewhere, as the plugin sends a scribble.
    const scribble = (map: Uint8Array) => ({ kind: "scribble", width: R, height: R, data: bytesToBase64(map.map((v) => (v === id("background") ? NO_STROKE : v))) });
    expect(await imageOf({ condition: scribble(oneColour) })).toBe(await imageOf({ condition: scribble(right) }));
  });

  it("a lone ear or eye takes the side it lies on, whichever colour it was drawn in", async () => {
    // Only the image's right ear and eye: drawn in the image-left classes, they are the right ones.
    const lone = right.map((v) => (v === id("r_ear") ? id("hair") : v === id("r_eye") ? id("skin") : v));
    const drawnWrong = lone.map((v) => (v === id("l_ear") ? id("r_ear") : v === id("l_eye") ? id("r_eye") : v));
    expect(await imageOf({ condition: mask(drawnWrong) })).toBe(await imageOf({ condition: mask(lone) }));
  });

  it("a swapped palette PNG over HTTP gives the same image as the right face over the WebSocket", async () => {
    const png = encode({ width: R, height: R, data: paletteImage(m.classes, swapped), channels: 4, depth: 8 });
    const res = await authFetch(server, `/generate?seed=7&format=json`, { method: "POST", headers: { "content-type": "image/png" }, body: new Uint8Array(png) });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.images[0].png).toBe(await imageOf({ condition: mask(right) }));
  });

  it("fitting the layout scores the drawing with its parts on their sides: one colour a part keeps the same image, same score", async () => {
    const fitted = async (map: Uint8Array) => {
      const r = await resultOf({ condition: mask(map), fit: 3 });
      return { png: r.png, seed: r.seed, fitScore: r.fitScore };
    };
    const expected = await fitted(right);
    expect(expected.fitScore).toBeGreaterThan(0);
    expect(await fitted(oneColour)).toEqual(expected);
    expect(await fitted(swapped)).toEqual(expected);
  });

  it("restyling either eye's class restyles both eyes, as the palette's one Eye means", async () => {
    const restyle = (classes: number[]) => imageOf({ condition: mask(right), restyle: { classes, seed: 99 } });
    const both = await restyle([id("l_eye"), id("r_eye")]);
    expect(await restyle([id("l_eye")])).toBe(both);
    expect(await restyle([id("r_eye")])).toBe(both);
  });
});
