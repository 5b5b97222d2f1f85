// Base64 for binary payloads (masks, PNGs), browser and Node alike.
// Node uses Buffer; the browser uses the table-driven code below, which is faster than
// btoa/atob over binary strings and needs no string-of-chars copy (see the bench numbers in
// docs/ARCHITECTURE.md).

const B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_CODES = new Uint8Array(B64_CHARS.split("").map((c) => c.charCodeAt(0)));
const B64_VALUES = (() => {
  const v = new Uint8Array(128).fill(255);
  for (let i = 0; i < 64; i++) v[B64_CHARS.charCodeAt(i)] = i;
  return v;
})();

export function bytesToBase64Portable(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const x = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = B64_CODES[x >> 18];
    out[o++] = B64_CODES[(x >> 12) & 63];
    out[o++] = B64_CODES[(x >> 6) & 63];
    out[o++] = B64_CODES[x & 63];
  }
  if (i < n) {
    const x = (bytes[i] << 16) | (i + 1 < n ? bytes[i + 1] << 8 : 0);
    out[o++] = B64_CODES[x >> 18];
    out[o++] = B64_CODES[(x >> 12) & 63];
    out[o++] = i + 1 < n ? B64_CODES[(x >> 6) & 63] : 61; // "="
    out[o++] = 61;
  }
  return new TextDecoder().decode(out);
}

/** Throws RangeError on a character outside the base64 alphabet. */
export function base64ToBytesPortable(b64: string): Uint8Array {
  let len = b64.length;
  while (len > 0 && b64.charCodeAt(len - 1) === 61) len--; // "=" padding
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  const T = B64_VALUES;
  let bad = 0; // any 255 (not in the alphabet) sets bit 7
  let o = 0;
  let i = 0;
  for (; i + 3 < len; i += 4) {
    const a = T[b64.charCodeAt(i) & 127] | (b64.charCodeAt(i) & 128);
    const b = T[b64.charCodeAt(i + 1) & 127] | (b64.charCodeAt(i + 1) & 128);
    const c = T[b64.charCodeAt(i + 2) & 127] | (b64.charCodeAt(i + 2) & 128);
    const d = T[b64.charCodeAt(i + 3) & 127] | (b64.charCodeAt(i + 3) & 128);
    bad |= a | b | c | d;
    out[o++] = (a << 2) | (b >> 4);
    out[o++] = ((b & 15) << 4) | (c >> 2);
    out[o++] = ((c & 3) << 6) | (d & 63);
  }
  const rest = len - i;
  if (rest === 1) bad |= 128; // one leftover character carries no whole byte
  if (rest >= 2) {
    const a = T[b64.charCodeAt(i) & 127] | (b64.charCodeAt(i) & 128);
    const b = T[b64.charCodeAt(i + 1) & 127] | (b64.charCodeAt(i + 1) & 128);
    const c = rest === 3 ? T[b64.charCodeAt(i + 2) & 127] | (b64.charCodeAt(i + 2) & 128) : 0;
    bad |= a | b | c;
    out[o++] = (a << 2) | (b >> 4);
    if (rest === 3) out[o++] = ((b & 15) << 4) | (c >> 2);
  }
  if (bad & 128) throw new RangeError("invalid base64");
  return o === out.length ? out : out.subarray(0, o);
}

export function bytesToBase64(bytes: Uint8Array): string {
  if (typeof Buffer !== "undefined") return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  return bytesToBase64Portable(bytes);
}

export function base64ToBytes(b64: string): Uint8Array {
  if (typeof Buffer !== "undefined") return new Uint8Array(Buffer.from(b64, "base64"));
  return base64ToBytesPortable(b64);
}
