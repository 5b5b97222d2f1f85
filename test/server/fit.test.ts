// Fit layout on a real server (loopback, the default pack's real ONNX sessions): k candidates per
// kept image, the pack's parser keeps the closest to the drawn mask; the seeds it reports make the
// same bytes when asked for plainly; bad values are refused in words; other conditions are told.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../server/log.ts";
import { layoutMiou, rgbaToPlanar, scoreCandidates } from "../../server/pipeline/fit.ts";
import { rgbaOfPng } from "../../server/pipeline/image.ts";
import { parseImages } from "../../server/pipeline/stages.ts";
import { base64ToBytes, bytesToBase64, MAX_SEED, type Done, type ErrorMessage, type HttpGenerateResponse, type ImageResult, type ServerMessage } from "../../protocol/index.ts";
import { startServer, type RunningServer } from "../../server/server.ts";
import { authFetch, defaultTestPack, faceLayout, openClient, PACKS_DIR, TestClient } from "./helpers.ts";

const pack = defaultTestPack();
const R = pack.manifest.resolution;
const layout = faceLayout(pack.manifest.classes, R);
const SEED = 4242;
let server: RunningServer;
let client: TestClient;

const imagesOf = (msgs: ServerMessage[]) => msgs.filter((x): x is ImageResult => x.type === "image");
const errorOf = (msgs: ServerMessage[]) => msgs.find((x): x is ErrorMessage => x.type === "error");
const doneOf = (msgs: ServerMessage[]) => msgs.find((x): x is Done => x.type === "done");
const mask = (data: Uint8Array) => ({ kind: "mask", width: R, height: R, data: bytesToBase64(data) });
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

let counter = 0;
async function ask(body: Record<string, unknown>): Promise<ServerMessage[]> {
  const id = `fit${++counter}`;
  client.send({ type: "generate", id, pack: pack.name, condition: mask(layout), seed: SEED, variations: 1, mode: "final", ...body });
  return client.result(id, 120_000);
}

/** The pack parser's layout mIoU of PNGs against the layout, through the server's own sessions. */
async function parserScores(pngs: Uint8Array[]): Promise<number[]> {
  return scoreCandidates(server.engine.runtimes.get(pack.name)!, pngs.map((png) => rgbaOfPng(png, R, R)), layout);
}

beforeAll(async () => {
  server = await startServer({ port: 0, packsDir: PACKS_DIR, log: silentLogger });
  client = await openClient(server);
  await client.next((x) => x.type === "welcome");
});
afterAll(async () => {
  await client?.close();
  await server?.close();
});

describe("fit layout over the WebSocket", () => {
  it("keeps the candidates the parser finds closest, best first, at least as close as plain seeds; their seeds reproduce them", async () => {
    const fitted = imagesOf(await ask({ variations: 2, fit: 4 }));
    expect(fitted).toHaveLength(2);
    const plain = imagesOf(await ask({ variations: 8 })); // every candidate of the fit request, asked for plainly
    const plainScores = await parserScores(plain.map((i) => base64ToBytes(i.png)));

    // The kept are the two best of seeds SEED..SEED+7 by the pack's parser, best first, each naming its seed.
    const ranked = plain.map((img, i) => ({ seed: img.seed, score: plainScores[i] })).sort((a, b) => b.score - a.score || a.seed - b.seed);
    expect(fitted.map((i) => i.seed)).toEqual(ranked.slice(0, 2).map((r) => r.seed));
    fitted.forEach((img, i) => expect(img.fitScore).toBeCloseTo(ranked[i].score, 4));
    // At least as close as fit off (k = 1: seeds SEED and SEED+1), and the fit's cost is reported.
    expect(mean(fitted.map((i) => i.fitScore!))).toBeGreaterThanOrEqual(mean(plainScores.slice(0, 2)));
    expect(fitted[0].timings.fit).toBeGreaterThan(0);
    expect(plain[0].timings.fit).toBeUndefined();
    expect(plain[0].fitScore).toBeUndefined();

    // The reported seed, asked for alone and plainly, gives the same bytes.
    for (const img of fitted) {
      const [again] = imagesOf(await ask({ seed: img.seed }));
      expect(again.png).toBe(img.png);
      expect(again.png).toBe(plain.find((p) => p.seed === img.seed)!.png);
    }
  });

  it("scores what the person gets: the parser reading the PNG agrees with fitScore", async () => {
    const [img] = imagesOf(await ask({ fit: 2, seed: SEED + 100 }));
    const rt = server.engine.runtimes.get(pack.name)!;
    const [parsed] = await parseImages(rt, rgbaToPlanar([rgbaOfPng(base64ToBytes(img.png), R, R)], R));
    expect(layoutMiou(parsed, layout)).toBeCloseTo(img.fitScore!, 4);
  });

  it("refuses fit values outside 1..8 with a sentence that names the field", async () => {
    for (const fit of [0, 9, 2.5, "4", null]) {
      const err = errorOf(await ask({ fit }));
      expect(err, String(fit)).toMatchObject({ code: "bad_message" });
      expect(err!.message).toMatch(/fit must be an integer from 1 \(off\) to 8/);
    }
  });

  it("says so when the condition has no drawn class map, and still makes the images", async () => {
    const sketch = new Uint8Array(R * R);
    for (let x = R / 4; x < (3 * R) / 4; x++) sketch[(R / 2) * R + x] = 1; // one stroke
    const msgs = await ask({ condition: { kind: "sketch", width: R, height: R, data: bytesToBase64(sketch) }, variations: 2, fit: 4 });
    const imgs = imagesOf(msgs);
    expect(imgs.map((i) => i.seed)).toEqual([SEED, SEED + 1]);
    expect(imgs.every((i) => i.fitScore === undefined)).toBe(true);
    expect(doneOf(msgs)!.warnings).toEqual([expect.objectContaining({ code: "fit_not_applied", message: expect.stringMatching(/shapes only.*sketch/) })]);
  });

  it("counts candidates when seeds wrap past the last one", async () => {
    const msgs = await ask({ seed: MAX_SEED, fit: 2 });
    expect(imagesOf(msgs).every((i) => i.seed === MAX_SEED || i.seed === 0)).toBe(true);
    expect(doneOf(msgs)!.warnings?.map((w) => w.code)).toContain("seeds_wrapped");
  });
});

describe("fit layout over HTTP", () => {
  const post = (query: string, body: BodyInit = layout, type = "application/octet-stream") =>
    authFetch(server, `/generate?${query}`, { method: "POST", body, headers: { "content-type": type } });

  it("takes ?fit=k: the seeds and scores of the kept images, in JSON and in the PNG's headers", async () => {
    const json = (await (await post(`seed=${SEED}&variations=2&fit=4&format=json`)).json()) as HttpGenerateResponse;
    expect(json.images).toHaveLength(2);
    expect(json.images.every((i) => i.seed >= SEED && i.seed < SEED + 8 && typeof i.fitScore === "number")).toBe(true);
    expect(json.timings.fit).toBeGreaterThan(0);
    const res = await post(`seed=${SEED}&variations=2&fit=4`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-phototype-seeds")).toBe(json.images.map((i) => i.seed).join(","));
    expect(res.headers.get("x-phototype-fit-scores")).toBe(json.images.map((i) => i.fitScore).join(","));
  });

  it("refuses a bad fit with a 400 that says the range", async () => {
    for (const q of ["fit=0", "fit=9", "fit=two", "fit="]) {
      const res = await post(`seed=1&${q}`);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as ErrorMessage).message).toMatch(/fit must be an integer from 1 to 8/);
    }
    const res = await post("", JSON.stringify({ mask: [...layout], fit: 12 }), "application/json");
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorMessage).message).toMatch(/\/fit/);
  });
});
