// Who may talk to the server: the Figma plugin iframe (Origin "null"), local pages, and
// scripts (no Origin). With a token set, every HTTP request and WebSocket upgrade must carry it.
import { createHash, timingSafeEqual } from "node:crypto";

const LOCAL_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1"]);

/** Origin header values we accept; undefined means the header was absent. */
export function isAllowedOrigin(origin: string | undefined): boolean {
  if (origin === undefined) return true; // CLI tools and scripts send none
  if (origin === "null") return true; // Figma plugin UIs run in an opaque-origin iframe
  return LOCAL_ORIGIN.test(origin);
}

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase());
}

/** Why a bind address is refused, or null when it is fine. */
export function bindProblem(host: string, token: string | undefined): string | null {
  if (isLoopbackHost(host)) return null;
  if (!token) return `Refusing to listen on ${host} without a token: anyone on the network could use this server. Pass --token T (or bind 127.0.0.1).`;
  return null;
}

/** The token a request carries: `Authorization: Bearer T` or `?token=T`. */
export function tokenFrom(authorization: string | undefined, url: string): string | undefined {
  const m = authorization?.match(/^Bearer\s+(.+)$/i);
  if (m) return m[1].trim();
  try {
    return new URL(url, "http://localhost").searchParams.get("token") ?? undefined;
  } catch {
    return undefined;
  }
}

/** Constant-time comparison (hashes first, so lengths do not leak either). */
export function tokenMatches(expected: string | undefined, given: string | undefined): boolean {
  if (!expected) return true;
  if (given === undefined) return false;
  const a = createHash("sha256").update(expected).digest();
  const b = createHash("sha256").update(given).digest();
  return timingSafeEqual(a, b);
}
