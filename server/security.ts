// Who may talk to the server. Every request needs the per-install secret (secret.ts), sent as
// `Authorization: Bearer CODE` (HTTP, WebSocket from Node) or `?token=CODE` (the WebSocket from a
// browser, which cannot set headers). Host must name the address the server listens on (a
// DNS-rebinding page sends its own name). Origins: the Figma plugin iframe ("null"), local pages
// and scripts (none); other web origins are refused before anything else.
import { createHash, timingSafeEqual } from "node:crypto";
import { networkInterfaces, hostname } from "node:os";
import { GuessLimit } from "./guess-limit.ts";
import { normalizeCode } from "./secret.ts";

const LOCAL_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i;
const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1"];
const WILDCARDS = new Set(["0.0.0.0", "::"]);

/** Origin header values we accept; undefined means the header was absent. */
export function isAllowedOrigin(origin: string | undefined): boolean {
  if (origin === undefined) return true; // CLI tools and scripts send none
  if (origin === "null") return true; // Figma plugin UIs run in an opaque-origin iframe
  return LOCAL_ORIGIN.test(origin);
}

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.includes(host.toLowerCase());
}

/** Why a bind address is refused, or null when it is fine. */
export function bindProblem(host: string, token: string | undefined): string | null {
  if (isLoopbackHost(host)) return null;
  if (!token) {
    return `Refusing to listen on ${host} without --token: the pairing code would cross the network in clear text. Pass --token T (a long random one) or bind 127.0.0.1.`;
  }
  return null;
}

/** Host names a request may use to reach a server bound to `bindHost`. */
export function hostNamesFor(bindHost: string): Set<string> {
  const names = new Set<string>();
  const add = (n: string) => names.add(n.toLowerCase());
  if (isLoopbackHost(bindHost)) LOOPBACK_NAMES.forEach(add);
  else add(bindHost);
  if (WILDCARDS.has(bindHost)) {
    LOOPBACK_NAMES.forEach(add);
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) add(a.address);
    add(hostname());
    add(`${hostname()}.local`);
  }
  return names;
}

/** Whether a Host header names this server: a known name and the listening port (80 when absent). */
export function isAllowedHost(header: string | undefined, names: ReadonlySet<string>, port: number): boolean {
  if (!header) return false;
  const m = /^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d{1,5}))?$/i.exec(header.trim());
  if (!m) return false;
  const name = m[1].replace(/^\[|\]$/g, "").toLowerCase();
  return names.has(name) && Number(m[2] ?? 80) === port;
}

/** The code a WebSocket upgrade carries: `Authorization: Bearer CODE` or `?token=CODE`. */
export function tokenFrom(authorization: string | undefined, url: string): string | undefined {
  const m = authorization?.match(/^Bearer\s+(.+)$/i);
  if (m) return m[1].trim();
  try {
    return new URL(url, "http://localhost").searchParams.get("token") ?? undefined;
  } catch {
    return undefined;
  }
}

/** Constant-time comparison of normalised codes (hashed first, so lengths do not leak either). */
export function codeMatches(expected: string, given: string): boolean {
  const a = createHash("sha256").update(normalizeCode(expected)).digest();
  const b = createHash("sha256").update(normalizeCode(given)).digest();
  return timingSafeEqual(a, b);
}

/** Where a person finds the code; said with every refusal. */
export const WHERE_THE_CODE_IS =
  "It is printed in the terminal where the server runs (npm start); `npx phototype pair` in the Phototype folder prints it again.";

export const NEEDS_CODE = `This server needs its pairing code. ${WHERE_THE_CODE_IS} Scripts send it as Authorization: Bearer CODE.`;
export const WRONG_CODE = `That pairing code is wrong. ${WHERE_THE_CODE_IS}`;

export type Verdict = { ok: true } | { ok: false; code: "unauthorized" | "rate_limited"; message: string };

/**
 * The one decision on a code, shared by HTTP and the WebSocket. The right code always passes;
 * wrong ones are counted (guess-limit.ts) and, once there are too many, refused as rate_limited
 * with a warning in the log.
 */
export class AccessGate {
  constructor(
    private readonly secret: string,
    readonly limit: GuessLimit = new GuessLimit(),
    private readonly warn: (line: string) => void = () => {},
  ) {}

  check(given: string | undefined): Verdict {
    if (!given) return { ok: false, code: "unauthorized", message: NEEDS_CODE };
    if (codeMatches(this.secret, given)) return { ok: true };
    const state = this.limit.recordWrong();
    if (state === "started") this.warn("many wrong pairing codes in the last minute: a web page or program may be guessing; the right code still works");
    if (state !== "limited") return { ok: false, code: "unauthorized", message: WRONG_CODE };
    return {
      ok: false,
      code: "rate_limited",
      message: `Too many wrong pairing codes were tried in the last minute (a web page may be guessing), so wrong codes are refused for ${Math.ceil(this.limit.limitedFor() / 1000)} s; the right code still works. ${WHERE_THE_CODE_IS}`,
    };
  }
}
