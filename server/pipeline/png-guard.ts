// A PNG made safe for the decoder (fast-png inflates whatever it is given, whole): the chunks are
// walked with their lengths checked, only those the decoder needs are kept (iCCP and zTXt are
// compressed too and could be bombs of their own), and the pixel stream is inflated once with a
// cap at the size IHDR declares, so a stream that holds more than its header says is refused
// after at most that many bytes. Native zlib does this check in a few ms for the largest image.
// Every chunk's CRC is checked too (native crc32, ~1 ms for a 2 MiB file).
import { crc32, inflateSync } from "node:zlib";
import { BadImageError } from "./image-errors.ts";

const KEEP = new Set(["IHDR", "PLTE", "tRNS", "IDAT", "IEND"]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
// Adam7 passes: x0, y0, dx, dy.
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** Bytes the inflated pixel stream must have: one filter byte a row plus the packed row, per pass. */
export function inflatedPngSize(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (w: number, h: number) => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * bitsPerPixel) / 8)) : 0);
  if (!interlaced) return rows(width, height);
  return ADAM7.reduce((sum, [x0, y0, dx, dy]) => sum + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)), 0);
}

/** The PNG with only IHDR, PLTE, tRNS, IDAT and IEND, after checking the pixel stream's size. */
export function guardPng(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kept: Uint8Array[] = [bytes.subarray(0, 8)];
  let dropped = false;
  const idat: Uint8Array[] = [];
  let expected = 0;
  let ended = false;
  for (let at = 8; !ended; ) {
    if (at + 12 > bytes.length) throw new BadImageError("The PNG is cut short (it has no IEND chunk).");
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const end = at + 12 + length;
    if (length > 0x7fffffff || end > bytes.length) throw new BadImageError(`The PNG's ${type} chunk runs past the end of the file.`);
    const data = bytes.subarray(at + 8, at + 8 + length);
    // A damaged file is refused, not half-read: every chunk's CRC covers its type and data.
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) {
      throw new BadImageError(`The PNG is damaged: its ${type} chunk fails its CRC check.`);
    }
    if (at === 8 && type !== "IHDR") throw new BadImageError("The PNG does not start with its IHDR chunk.");
    if (type === "IHDR") {
      if (length !== 13) throw new BadImageError("The PNG's IHDR chunk has the wrong length.");
      const [depth, colour, , , interlace] = data.subarray(8);
      const channels = CHANNELS[colour];
      if (!channels) throw new BadImageError(`PNG colour type ${colour} does not exist.`);
      expected = inflatedPngSize(view.getUint32(at + 8), view.getUint32(at + 12), channels * depth, interlace === 1);
    }
    if (type === "IDAT") idat.push(data);
    if (type === "IEND") ended = true;
    if (KEEP.has(type)) kept.push(bytes.subarray(at, end));
    else dropped = true;
    at = end;
  }
  if (idat.length === 0) throw new BadImageError("The PNG has no pixel data (IDAT).");
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.concat(idat), { maxOutputLength: Math.max(1, expected) });
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new BadImageError("The PNG's pixel data unpacks to more than its header declares; it is refused unread.");
    }
    throw new BadImageError(`The PNG's pixel data is not readable (${(e as Error).message}).`);
  }
  if (inflated.length < expected) throw new BadImageError("The PNG's pixel data is shorter than its header declares.");
  return dropped ? new Uint8Array(Buffer.concat(kept)) : bytes;
}
