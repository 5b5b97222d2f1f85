// Decompression bombs for the tests: small files whose headers declare huge images. The PNGs are
// real (they inflate to every declared pixel, all zero), so a server that decoded them would stall;
// the JPEGs carry a valid header and a zero-filled scan.
import { constants, crc32, deflateRawSync } from "node:zlib";

const BLOCK = 1 << 20;
/** 1 MiB of zeros as one full-flushed deflate block: blocks like it can be laid end to end. */
const ZERO_BLOCK = deflateRawSync(Buffer.alloc(BLOCK), { level: 9, finishFlush: constants.Z_FULL_FLUSH });

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A zlib stream of `n` zero bytes without holding them: repeated blocks, then a final empty one. */
function zerosZlib(n: number): Buffer {
  const parts: Buffer[] = [Buffer.from([0x78, 0xda])];
  for (let left = n; left > 0; left -= BLOCK) {
    parts.push(left >= BLOCK ? ZERO_BLOCK : deflateRawSync(Buffer.alloc(left), { level: 9, finishFlush: constants.Z_FULL_FLUSH }));
  }
  parts.push(deflateRawSync(Buffer.alloc(0))); // final block
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((n % 65521) << 16) | 1) >>> 0, 0); // Adler-32 of n zeros: a = 1, b = n mod 65521
  parts.push(adler);
  return Buffer.concat(parts);
}

/**
 * An 8-bit greyscale PNG whose IHDR says width x height and whose pixel stream holds `streamBytes`
 * zeros (the honest size is height * (width + 1): a filter byte, then the row). `before` chunks go
 * ahead of IDAT.
 */
export function greyPng(width: number, height: number, streamBytes = height * (width + 1), before: Buffer[] = []): Uint8Array {
  return zeroPng(width, height, { colour: 0, depth: 8, streamBytes, before });
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/**
 * A PNG of all-zero samples of any colour type (0 grey, 2 RGB, 4 grey+alpha, 6 RGBA) and depth:
 * black (and transparent, with alpha). Tiny on disk whatever its size: a 4096 x 4096 16-bit RGBA
 * one is ~130 KB. `streamBytes` defaults to the honest size.
 */
export function zeroPng(
  width: number,
  height: number,
  { colour = 0, depth = 8, streamBytes, before = [] }: { colour?: number; depth?: 8 | 16; streamBytes?: number; before?: Buffer[] } = {},
): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, colour, 0, 0, 0], 8); // deflate, adaptive filtering, no interlace
  const honest = height * (1 + (width * CHANNELS[colour] * depth) / 8);
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return new Uint8Array(Buffer.concat([signature, chunk("IHDR", ihdr), ...before, chunk("IDAT", zerosZlib(streamBytes ?? honest)), chunk("IEND", Buffer.alloc(0))]));
}

/** An 8-bit greyscale PNG of side x side black pixels: a bomb by its header. */
export function pngBomb(side: number): Uint8Array {
  return greyPng(side, side);
}

/** A small image whose header is honest but whose pixel stream unpacks to `bytes` (a bomb inside). */
export function streamBomb(side: number, bytes = 400 << 20): Uint8Array {
  return greyPng(side, side, bytes);
}

/** A small honest image carrying an ICC profile chunk that unpacks to `bytes` of zeros. */
export function iccpBomb(side: number, bytes = 400 << 20): Uint8Array {
  const iccp = Buffer.concat([Buffer.from("bomb\0\0", "latin1"), zerosZlib(bytes)]); // name, NUL, method 0, profile
  return greyPng(side, side, undefined, [chunk("iCCP", iccp)]);
}

/** The largest square PNG bomb of at most `maxBytes` (each MiB of pixels costs ~1 KB). */
export function largestPngBomb(maxBytes: number): Uint8Array {
  const blocks = Math.floor((maxBytes - 200) / ZERO_BLOCK.length);
  return pngBomb(Math.floor(Math.sqrt(blocks * BLOCK)) - 1);
}

/**
 * A baseline JPEG declaring width x height (at most 65535, the format's limit): SOI, one
 * quantisation table, SOF0 (3 components), tiny Huffman tables, SOS, `scanBytes` zero bytes, EOI.
 */
export function jpegBomb(width: number, height: number, scanBytes = 64): Uint8Array {
  const seg = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];
  const dqt = seg(0xdb, [0, ...new Array(64).fill(1)]);
  const sof = seg(0xc0, [8, height >> 8, height & 255, width >> 8, width & 255, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]);
  // One code of length 1 for symbol 0 (DC: no difference; AC: end of block).
  const dht = (tableClass: number) => seg(0xc4, [(tableClass << 4) | 0, 1, ...new Array(15).fill(0), 0]);
  const sos = seg(0xda, [3, 1, 0, 2, 0, 3, 0, 0, 63, 0]);
  return Uint8Array.from([0xff, 0xd8, ...dqt, ...sof, ...dht(0), ...dht(1), ...sos, ...new Array(scanBytes).fill(0), 0xff, 0xd9]);
}

/** The JPEG that declares the most pixels: 65535 x 65535, padded with scan data up to `maxBytes`. */
export function largestJpegBomb(maxBytes: number): Uint8Array {
  const empty = jpegBomb(65535, 65535, 0).length;
  return jpegBomb(65535, 65535, maxBytes - empty);
}
