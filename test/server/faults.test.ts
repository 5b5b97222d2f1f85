// Bad input and faults against a real server on loopback: >1,000 bad messages, floods, oversized
// frames and 100 abrupt disconnects (half of them mid-generation), and decompression bombs on
// every image path. Every bad message gets its error code, the server keeps working, the queue
// ends empty and memory stays flat.
import { get as httpGet } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../server/log.ts";
import { bytesToBase64, CLOSE_MESSAGE_TOO_LARGE, MAX_MESSAGE_BYTES, type ErrorMessage, type ServerMessage } from "../../protocol/index.ts";
import { startServer, type RunningServer } from "../../server/server.ts";
import { jpegBomb, largestJpegBomb, largestPngBomb, pngBomb } from "./bombs.ts";
import { authFetch, defaultTestPack, faceLayout, openClient, PACKS_DIR, TestClient } from "./helpers.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const pack = defaultTestPack();
const R = pack.manifest.resolution;
const layout = bytesToBase64(faceLayout(pack.manifest.classes, R));
let server: RunningServer;

const generate = (id: string, extra: Record<string, unknown> = {}) => ({
  type: "generate",
  id,
  pack: pack.name,
  condition: { kind: "mask", width: R, height: R, data: layout },
  seed: 1,
  variations: 1,
  mode: "final",
  ...extra,
});

/** One bad message of kind i and the error code it must get. */
function badMessage(i: number): [string | Buffer, string] {
  const id = `bad-${i}`;
  const cases: (() => [string | Buffer, string])[] = [
    () => ["{\"type\": \"generate\",", "bad_json"],
    () => ["", "bad_json"],
    () => ["42", "bad_message"],
    () => ["[]", "bad_message"],
    () => ["null", "bad_message"],
    () => [JSON.stringify({ type: `nope${i}`, id }), "unknown_type"],
    () => [JSON.stringify({ id }), "unknown_type"],
    () => [JSON.stringify(generate(id, { seed: -i - 1 })), "bad_message"],
    () => [JSON.stringify(generate(id, { seed: 2 ** 32 + i })), "bad_message"],
    () => [JSON.stringify(generate(id, { seed: i + 0.5 })), "bad_message"],
    () => [JSON.stringify(generate(id, { seed: String(i) })), "bad_message"],
    () => [JSON.stringify(generate(id, { seed: null })), "bad_message"],
    () => [JSON.stringify(generate(id, { variations: 9 })), "bad_message"],
    () => [JSON.stringify(generate(id, { mode: "fast" })), "bad_message"],
    () => [JSON.stringify(generate(id, { extra: true })), "bad_message"],
    () => [JSON.stringify(generate(id, { condition: { kind: "mask", width: R, height: R, data: "!!!" } })), "bad_message"],
    () => [JSON.stringify(generate(id, { pack: `missing-${i}` })), "unknown_pack"],
    () => [JSON.stringify(generate(id, { condition: { kind: "mask", width: R, height: R, data: bytesToBase64(new Uint8Array(R * R - 1)) } })), "bad_mask_size"],
    () => [JSON.stringify(generate(id, { condition: { kind: "mask", width: R * 2, height: R / 2, data: layout } })), "bad_mask_size"],
    () => [JSON.stringify(generate(id, { condition: { kind: "mask", width: R, height: R, data: bytesToBase64(new Uint8Array(R * R).fill(200 + (i % 50))) } })), "bad_class_id"],
    () => [JSON.stringify({ type: "cancel", id }), "unknown_request"],
    () => [JSON.stringify({ type: "cancel" }), "bad_message"],
    () => [Buffer.from([0, 1, 2, i & 255]), "bad_message"],
  ];
  return cases[i % cases.length]();
}

function memory() {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

async function waitFor(what: string, test: () => boolean, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  server = await startServer({ port: 0, packsDir: PACKS_DIR, log: silentLogger });
});
afterAll(() => server?.close());

describe("faults", () => {
  it("survives bad messages, floods, oversized frames and abrupt disconnects with flat memory", async () => {
    // Warm up every code path (and ORT's arenas at the largest batch) before the baseline.
    const warm = await openClient(server);
    warm.send(generate("warm", { variations: 8 }));
    await warm.result("warm");
    // Waiting requests share runs (batching), so warm the arenas at the mixed batch shapes too.
    for (let round = 0; round < 3; round++) {
      const burst = await Promise.all(Array.from({ length: 8 }, () => openClient(server)));
      await Promise.all(burst.map((c, k) => (c.send(generate(`warm-${round}-${k}`, { variations: 1 + ((k + round) % 3) })), c.result(`warm-${round}-${k}`))));
      await Promise.all(burst.map((c) => c.close()));
    }
    for (let i = 0; i < 50; i++) warm.send(badMessage(i)[0]);
    await waitFor("warm-up answers", () => warm.messages.filter((m) => m.type === "error").length === 50);
    await warm.close();
    const before = memory();

    // 1. 1,200 bad messages over 4 connections; answers come in order, so compare code by code.
    const clients = await Promise.all(Array.from({ length: 4 }, () => openClient(server)));
    const expected: string[][] = clients.map(() => []);
    for (let i = 0; i < 1200; i++) {
      const [msg, code] = badMessage(i);
      const c = i % clients.length;
      if (typeof msg === "string") clients[c].send(msg);
      else clients[c].ws.send(msg, { binary: true });
      expected[c].push(code);
    }
    const errorsOf = (c: TestClient) => c.messages.filter((m): m is ErrorMessage => m.type === "error");
    await waitFor("1,200 answers", () => clients.every((c, i) => errorsOf(c).length >= expected[i].length));
    clients.forEach((c, i) => expect(errorsOf(c).map((e) => e.code)).toEqual(expected[i]));
    for (const c of clients) for (const e of errorsOf(c)) expect(e.message.length).toBeGreaterThan(10);

    // 2. A flood: 10 clients x 8 final requests at once. Each is answered: done, rate_limited or queue_full.
    const flooders = await Promise.all(Array.from({ length: 10 }, () => openClient(server)));
    flooders.forEach((c, ci) => {
      for (let j = 0; j < 8; j++) c.send(generate(`f${ci}-${j}`, { seed: j }));
    });
    const floodEnds = await Promise.all(
      flooders.flatMap((c, ci) => Array.from({ length: 8 }, (_, j) => c.result(`f${ci}-${j}`, 120_000).then((ms) => ms.at(-1)!))),
    );
    const endings = floodEnds.map((m: ServerMessage) => (m.type === "error" ? m.code : m.type));
    expect(new Set(endings).size).toBeGreaterThan(1);
    for (const e of endings) expect(["done", "rate_limited", "queue_full"]).toContain(e);
    // 8 requests sent in one go exceed the per-client limit of 4 unless the early ones finish first.
    expect(endings.filter((e) => e === "rate_limited").length).toBeGreaterThan(0);
    expect(endings).toContain("done");
    await Promise.all([...clients, ...flooders].map((c) => c.close()));

    // 3. Oversized frames close that socket with 1009 and nothing else.
    for (let i = 0; i < 3; i++) {
      const c = await openClient(server);
      c.send("{".padEnd(MAX_MESSAGE_BYTES + 10, " "));
      await waitFor("1009 close", () => c.closed !== null);
      expect(c.closed!.code).toBe(CLOSE_MESSAGE_TOO_LARGE);
    }

    // 4. 100 abrupt disconnects, 10 at a time: half right after sending, half mid-generation.
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, k) => {
          const c = await openClient(server);
          c.send(generate(`gone-${round}-${k}`, { variations: 1 + (k % 8), seed: round * 10 + k }));
          c.send(generate(`gone2-${round}-${k}`, { mode: "preview" }));
          if (k % 2 === 1) await c.next((m) => m.type === "progress" && m.stage !== "queued", 60_000).catch(() => {});
          c.ws.terminate();
        }),
      );
    }

    // Everything is cleaned up: no sockets, no queue entries, no busy workers.
    await waitFor("sockets closed", () => server.ws.clients() === 0);
    await waitFor("queue empty", () => {
      const s = server.engine.queue.stats();
      return s.waiting === 0 && s.running === 0 && s.busy === 0 && s.clients === 0;
    });

    // A valid request still works.
    const after = await openClient(server);
    after.send(generate("after", { variations: 2 }));
    const res = await after.result("after");
    expect(res.filter((m) => m.type === "image").length).toBe(2);
    await after.close();
    await waitFor("sockets closed", () => server.ws.clients() === 0);

    const end = memory();
    const mb = (b: number) => Math.round(b / 1e5) / 10;
    console.log(`memory after GC: heap ${mb(before.heap)} -> ${mb(end.heap)} MB, rss ${mb(before.rss)} -> ${mb(end.rss)} MB`);
    expect(end.heap - before.heap).toBeLessThan(20e6);
    expect(end.rss - before.rss).toBeLessThan(150e6);
  });
});

describe("decompression bombs", () => {
  // The most a frame (or a JSON body) carries: the PNG in base64 beside the rest of the message,
  // which holds a mask at the pack's resolution (base64) and up to 16 KiB of other fields.
  const maskB64 = Math.ceil((pack.manifest.resolution ** 2 * 4) / 3);
  const wsCap = Math.floor(((MAX_MESSAGE_BYTES - 16 * 1024 - maskB64) * 3) / 4);
  const bombs: [string, Uint8Array, Uint8Array][] = [
    // name, as an HTTP body (up to the body cap), as a WebSocket photo (up to the frame cap)
    ["PNG 10000²", pngBomb(10000), pngBomb(10000)],
    ["PNG 20000²", pngBomb(20000), pngBomb(20000)],
    ["PNG, the largest the cap allows", largestPngBomb(MAX_MESSAGE_BYTES), largestPngBomb(wsCap)],
    ["JPEG 10000²", jpegBomb(10000, 10000), jpegBomb(10000, 10000)],
    ["JPEG 20000²", jpegBomb(20000, 20000), jpegBomb(20000, 20000)],
    ["JPEG 65535², padded to the cap", largestJpegBomb(MAX_MESSAGE_BYTES), largestJpegBomb(wsCap)],
  ];

  it("refuses each within 1 s on HTTP and every WebSocket photo path; /health keeps answering within 200 ms", async () => {
    const c = await openClient(server, { origin: "null" });
    await c.next((m) => m.type === "welcome");
    const before = memory();
    const peakBefore = process.resourceUsage().maxRSS * 1024;

    // /health, every 25 ms, the whole time, each on a fresh connection.
    let polling = true;
    const healthMs: number[] = [];
    const health = () =>
      new Promise<void>((resolve, reject) => {
        const req = httpGet(`${server.url}/health`, { agent: false, headers: { authorization: `Bearer ${server.secret}` } }, (res) => {
          expect(res.statusCode).toBe(200);
          res.resume().on("end", resolve);
        });
        req.on("error", reject);
      });
    const poller = (async () => {
      while (polling) {
        const t = performance.now();
        await health();
        healthMs.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();

    const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      const out = await fn();
      expect(performance.now() - t, what).toBeLessThan(1000);
      return out;
    };
    const photo = (b: Uint8Array) => bytesToBase64(b);
    let n = 0;
    for (const [name, body, framed] of bombs) {
      const http = await timed(`${name} as a POST /generate body`, () => authFetch(server, "/generate", { method: "POST", body: body as Uint8Array<ArrayBuffer>, headers: { "content-type": "image/png" } }));
      expect(http.status, name).toBe(413);
      expect(((await http.json()) as ErrorMessage).code, name).toBe("image_too_large");
      const json = await timed(`${name} as a JSON edges photo`, () =>
        authFetch(server, "/generate", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ condition: { kind: "edges", photo: photo(framed) } }) }),
      );
      expect(((await json.json()) as ErrorMessage).code, name).toBe("image_too_large");
      const messages = [
        generate(`edges-${n}`, { condition: { kind: "edges", photo: photo(framed) } }),
        generate(`exemplar-${n}`, { condition: { kind: "exemplar", photo: photo(framed) } }),
        generate(`source-${n}`, { source: { kind: "photo", photo: photo(framed) } }),
        { type: "invert", id: `invert-${n}`, pack: pack.name, photo: photo(framed) },
      ];
      for (const msg of messages) {
        const answer = await timed(`${name} as ${msg.id}`, async () => {
          c.send(msg);
          return (await c.result(msg.id, 5_000)).at(-1) as ErrorMessage;
        });
        expect([msg.id, answer.type, answer.code]).toEqual([msg.id, "error", "image_too_large"]);
        expect(answer.message).toMatch(/declares \d+ × \d+ pixels; the server reads at most/);
      }
      n++;
    }
    polling = false;
    await poller;
    await c.close();

    const end = memory();
    const peakAfter = process.resourceUsage().maxRSS * 1024;
    const mb = (b: number) => Math.round(b / 1e5) / 10;
    console.log(`bombs: /health worst ${Math.max(...healthMs).toFixed(0)} ms over ${healthMs.length} calls; rss ${mb(before.rss)} -> ${mb(end.rss)} MB, peak ${mb(peakBefore)} -> ${mb(peakAfter)} MB`);
    expect(healthMs.length).toBeGreaterThan(5);
    expect(Math.max(...healthMs)).toBeLessThan(200);
    expect(end.rss - before.rss).toBeLessThan(100e6);
    expect(peakAfter - peakBefore).toBeLessThan(100e6); // one decoded 20000² bomb alone is 400 MB
  });
});
