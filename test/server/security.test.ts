// The per-install secret on a real server on loopback: made on first start (owner-only), needed
// by every request, HTTP and WebSocket alike (a sandboxed iframe sends Origin "null" just like
// Figma's), wrong Host names refused, wrong guesses locked out.
import { request } from "node:http";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GuessLimit } from "../../server/guess-limit.ts";
import { silentLogger } from "../../server/log.ts";
import { CLOSE_UNAUTHORIZED, type ErrorMessage } from "../../protocol/index.ts";
import { configDir, formatCode, loadOrCreateSecret, newCode, normalizeCode } from "../../server/secret.ts";
import { hostNamesFor, isAllowedHost } from "../../server/security.ts";
import { startServer, type RunningServer } from "../../server/server.ts";
import { authFetch, openClient, PACKS_DIR, TestClient } from "./helpers.ts";

let dir: string;
let server: RunningServer;

/** A raw HTTP request, so the Host header can be anything. */
function raw(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers, setHost: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Opens a WebSocket and waits for its first error and the close that follows. */
async function refusedSocket(url: string, headers: Record<string, string> = {}): Promise<{ error: ErrorMessage; code: number; welcomed: boolean }> {
  const c = await TestClient.open(url, headers);
  const error = await c.next<ErrorMessage>((m) => m.type === "error");
  await new Promise((r) => (c.closed ? r(null) : c.ws.once("close", r)));
  return { error, code: c.closed!.code, welcomed: c.messages.some((m) => m.type === "welcome") };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "phototype-secret-"));
  server = await startServer({ port: 0, configDir: dir, packsDir: PACKS_DIR, log: silentLogger, warmup: false });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the per-install secret", () => {
  it("is made on first start, owner-only, as a 12-symbol pairing code, and kept", async () => {
    const file = join(dir, "secret");
    expect(server.secretFile).toBe(file);
    expect(readFileSync(file, "utf8").trim()).toBe(server.secret);
    expect(server.secret).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    if (process.platform !== "win32") {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o077).toBe(0);
    }
    expect(loadOrCreateSecret(dir)).toMatchObject({ code: server.secret, created: false });
  });

  it("lives in the user's config folder, and tests never use the real one", () => {
    expect(configDir({ PHOTOTYPE_CONFIG_DIR: "/x/y" })).toBe("/x/y");
    expect(configDir({ XDG_CONFIG_HOME: "/cfg" })).toBe(join("/cfg", "phototype"));
    expect(configDir({ HOME: "/home/a" })).toMatch(/\.config[\\/]phototype$/);
    expect(process.env.PHOTOTYPE_CONFIG_DIR).toContain(tmpdir());
  });

  it("reads the same however a person types it", () => {
    const code = newCode();
    expect(normalizeCode(code.toLowerCase().replace(/-/g, " "))).toBe(normalizeCode(code));
    expect(normalizeCode("o1l-I")).toBe("0111");
    expect(formatCode("abcd efgh jkmn")).toBe("ABCD-EFGH-JKMN");
    expect(new Set(Array.from({ length: 50 }, newCode)).size).toBe(50);
  });
});

describe("every request needs it", () => {
  it("refuses HTTP without it, from Figma's null origin too, and says where the code is", async () => {
    for (const headers of [{}, { origin: "null" }, { origin: "null", authorization: "Bearer WRONG-CODE-0000" }] as Record<string, string>[]) {
      for (const [path, init] of [["/health", {}], ["/packs", {}], ["/generate", { method: "POST", body: new Uint8Array(64 * 64) }]] as const) {
        const res = await fetch(`${server.url}${path}`, { ...init, headers });
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        // The refusal still carries CORS for Figma's iframe, so the plugin can read why.
        if (headers.origin) expect(res.headers.get("access-control-allow-origin")).toBe("null");
        const body = (await res.json()) as ErrorMessage;
        expect(body.code).toBe("unauthorized");
        expect(body.message).toMatch(/pairing code.*npx phototype pair/);
      }
    }
  });

  it("refuses a WebSocket without it (error, then close 4401, no welcome), from Origin null too", async () => {
    for (const [url, headers] of [
      [server.wsUrl, { origin: "null" }],
      [`${server.wsUrl}?token=WRONG-CODE-0000`, { origin: "null" }],
      [server.wsUrl, { authorization: "Bearer nope" }],
    ] as const) {
      const r = await refusedSocket(url, headers);
      expect(r.error.code).toBe("unauthorized");
      expect(r.error.message).toMatch(/npx phototype pair/);
      expect(r.code).toBe(CLOSE_UNAUTHORIZED);
      expect(r.welcomed).toBe(false);
    }
  });

  it("accepts the right code in the header, or in the socket's query as the plugin sends it, typed loosely", async () => {
    expect((await authFetch(server, "/health")).status).toBe(200);
    const loose = server.secret.toLowerCase().replace(/-/g, "");
    expect((await fetch(`${server.url}/health`, { headers: { authorization: `Bearer ${loose}`, origin: "null" } })).status).toBe(200);
    const spaced = server.secret.toLowerCase().replace(/-/g, " ");
    expect((await fetch(`${server.url}/health`, { headers: { authorization: `Bearer ${spaced}` } })).status).toBe(200);
    const c = await TestClient.open(`${server.wsUrl}?token=${encodeURIComponent(server.secret)}`, { origin: "null" });
    await c.next((m) => m.type === "welcome");
    await c.close();
    const viaHeader = await openClient(server);
    await viaHeader.next((m) => m.type === "welcome");
    await viaHeader.close();
  });
});

describe("Host", () => {
  it("accepts only the listening address and port, on HTTP and the WebSocket upgrade", async () => {
    const auth = { authorization: `Bearer ${server.secret}` };
    expect((await raw(server.port, "/health", { ...auth, host: `127.0.0.1:${server.port}` })).status).toBe(200);
    expect((await raw(server.port, "/health", { ...auth, host: `localhost:${server.port}` })).status).toBe(200);
    for (const host of [`evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, "127.0.0.1", `attacker.test`]) {
      const res = await raw(server.port, "/health", { ...auth, host });
      expect(res.status, host).toBe(403);
      expect(JSON.parse(res.body).code).toBe("forbidden_host");
    }
    await expect(TestClient.open(server.wsUrl, { ...auth, host: `evil.example:${server.port}` })).rejects.toThrow(/403/);
  });

  it("names every address of the machine only for a wildcard bind", () => {
    expect(isAllowedHost("[::1]:8787", hostNamesFor("127.0.0.1"), 8787)).toBe(true);
    expect(isAllowedHost("LOCALHOST:8787", hostNamesFor("127.0.0.1"), 8787)).toBe(true);
    expect(isAllowedHost("192.168.1.5:8787", hostNamesFor("127.0.0.1"), 8787)).toBe(false);
    expect(isAllowedHost("localhost:8787", hostNamesFor("192.168.1.5"), 8787)).toBe(false);
    expect(isAllowedHost("127.0.0.1:8787", hostNamesFor("0.0.0.0"), 8787)).toBe(true);
    expect(isAllowedHost(undefined, hostNamesFor("127.0.0.1"), 8787)).toBe(false);
  });
});

describe("wrong guesses", () => {
  it("limits wrong codes after too many a minute, for as long as guessing goes on", () => {
    let t = 0;
    const limit = new GuessLimit(3, 1000, () => t);
    expect([limit.recordWrong(), limit.recordWrong()]).toEqual(["counted", "counted"]);
    expect(limit.limitedFor()).toBe(0);
    t = 1500; // the first two fell out of the window
    expect([limit.recordWrong(), limit.recordWrong()]).toEqual(["counted", "counted"]);
    expect(limit.limitedFor()).toBe(0);
    expect(limit.recordWrong()).toBe("started");
    expect(limit.limitedFor()).toBe(1000);
    t = 2000;
    expect(limit.recordWrong()).toBe("limited");
    expect(limit.limitedFor()).toBe(1000);
    t = 3100;
    expect(limit.limitedFor()).toBe(0);
  });

  it("refuses wrong codes as rate_limited after a flood, while the right code still gets in, on HTTP and the WebSocket", async () => {
    const own = mkdtempSync(join(tmpdir(), "phototype-secret-"));
    const s = await startServer({ port: 0, configDir: own, packsDir: PACKS_DIR, log: silentLogger, warmup: false });
    try {
      const paired = await openClient(s);
      await paired.next((m) => m.type === "welcome");
      for (let i = 0; i < 20; i++) expect((await fetch(`${s.url}/health`, { headers: { authorization: `Bearer GUESS-${i}` } })).status).toBe(401);
      const wrong = await fetch(`${s.url}/health`, { headers: { authorization: "Bearer GUESS-X" } });
      expect(wrong.status).toBe(429);
      expect((await wrong.json()).message).toMatch(/Too many wrong pairing codes.*the right code still works/);
      const r = await refusedSocket(`${s.wsUrl}?token=GUESS-Y`);
      expect([r.error.code, r.code]).toEqual(["rate_limited", CLOSE_UNAUTHORIZED]);
      expect((await authFetch(s, "/health")).status).toBe(200);
      const again = await TestClient.open(`${s.wsUrl}?token=${encodeURIComponent(s.secret)}`, { origin: "null" });
      await again.next((m) => m.type === "welcome");
      await again.close();
      expect(paired.closed).toBeNull();
      await paired.close();
    } finally {
      await s.close();
      rmSync(own, { recursive: true, force: true });
    }
  });

  it("a token given at start replaces the stored code", async () => {
    const own = mkdtempSync(join(tmpdir(), "phototype-secret-"));
    const s = await startServer({ port: 0, token: "Chosen-Token-0123456789abcdef", configDir: own, packsDir: PACKS_DIR, log: silentLogger, warmup: false });
    try {
      expect(s.secretFile).toBeUndefined();
      expect((await authFetch(s, "/health")).status).toBe(200);
      expect((await fetch(`${s.url}/health`, { headers: { authorization: `Bearer ${loadOrCreateSecret(own).code}` } })).status).toBe(401);
    } finally {
      await s.close();
      rmSync(own, { recursive: true, force: true });
    }
  });
});
