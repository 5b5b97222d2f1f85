// Numbers both sides agree on: the protocol version, the default address, size limits and the
// WebSocket close codes the server uses.
export const PROTOCOL_VERSION = 1;
export const DEFAULT_PORT = 8787;
/** Largest text frame the server reads (a 1024 px mask in base64 is ~1.4 MB). */
export const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
export const MAX_VARIATIONS = 8;
/**
 * Fit the layout: candidates made per kept image (1 = off), so a request makes up to
 * MAX_VARIATIONS * MAX_FIT images. Off by default: docs/USING.md (Fit layout) has the measurement.
 */
export const MAX_FIT = 8;
export const DEFAULT_FIT = 1;
export const MAX_SEED = 0xffffffff;
export const DEFAULT_HOST = "127.0.0.1";
/** Path of the WebSocket endpoint; a browser passes the pairing code as `?token=CODE`. */
export const WS_PATH = "/ws";
/**
 * Close code for a frame over MAX_MESSAGE_BYTES: the server cannot read past the limit, so it
 * closes the socket (reason "message_too_large: ...") instead of answering; reconnect and resend smaller.
 */
export const CLOSE_MESSAGE_TOO_LARGE = 1009;
/** Close code when the client stopped reading and the server's send buffer overflowed. */
export const CLOSE_SLOW_CONSUMER = 1013;
/**
 * Close code after a WebSocket with a missing or wrong pairing code: the server accepts the
 * upgrade, sends one `error` ("unauthorized", or "rate_limited" while too many wrong codes were
 * tried) so a browser, which cannot read a refused handshake's status, can tell the person, then
 * closes with this code.
 */
export const CLOSE_UNAUTHORIZED = 4401;
