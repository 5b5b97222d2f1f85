// Tensors on the wire between this server and the engine, both directions (engine/tensor_wire.py
// is the other side):
//
//   "PTT1" | uint32 LE header length | header JSON, padded with spaces to a multiple of 8 |
//   tensor data, each raw little-endian and padded with zeros to a multiple of 8
//
// The header is {"tensors": [{name, type: "float32" | "int64", dims}]}, data in the same order.
// Binary, not JSON numbers: a 1.5 MB feature map stays 1.5 MB, and decoding is a typed-array view.
import { endianness } from "node:os";
import * as ort from "onnxruntime-node";

export const TENSOR_CONTENT_TYPE = "application/x-phototype-tensors";
const MAGIC = [0x50, 0x54, 0x54, 0x31]; // "PTT1"
const ITEM = { float32: 4, int64: 8 } as const;
type WireType = keyof typeof ITEM;

export class WireError extends Error {}

if (endianness() !== "LE") throw new Error("the engine wire format is little-endian; this machine is not");

const pad8 = (n: number) => (8 - (n % 8)) % 8;

export function encodeTensors(tensors: Record<string, ort.Tensor>): Uint8Array<ArrayBuffer> {
  const entries = Object.entries(tensors);
  const specs = entries.map(([name, t]) => {
    if (t.type !== "float32" && t.type !== "int64") throw new WireError(`tensor ${name} has type ${t.type}; the wire carries float32 and int64`);
    return { name, type: t.type as WireType, dims: [...t.dims] };
  });
  let header = JSON.stringify({ tensors: specs });
  header += " ".repeat(pad8(8 + Buffer.byteLength(header)));
  const head = Buffer.from(header);
  const blobs = entries.map(([, t]) => {
    const data = t.data as Float32Array | BigInt64Array;
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  });
  const out = new Uint8Array(8 + head.length + blobs.reduce((a, b) => a + b.length + pad8(b.length), 0));
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, head.length, true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const b of blobs) {
    out.set(b, at);
    at += b.length + pad8(b.length);
  }
  return out;
}

export function decodeTensors(body: Uint8Array): Record<string, ort.Tensor> {
  if (body.length < 8 || MAGIC.some((m, i) => body[i] !== m)) throw new WireError("not a tensor body (no PTT1 magic)");
  // Views need aligned offsets; a body that does not start on 8 bytes is copied once.
  const bytes = body.byteOffset % 8 === 0 ? body : body.slice();
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (8 + length > bytes.length) throw new WireError("header runs past the end of the body");
  let specs: { name: string; type: string; dims: number[] }[];
  try {
    specs = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, length).toString()).tensors;
    if (!Array.isArray(specs)) throw new Error("no tensors list");
  } catch (e) {
    throw new WireError(`unreadable header: ${(e as Error).message}`);
  }
  const out: Record<string, ort.Tensor> = {};
  let at = 8 + length;
  for (const s of specs) {
    const item = ITEM[s.type as WireType];
    if (!item || !Array.isArray(s.dims) || !s.dims.every((d) => Number.isInteger(d) && d >= 0)) throw new WireError(`bad tensor spec ${JSON.stringify(s)}`);
    const count = s.dims.reduce((a, d) => a * d, 1);
    const size = count * item;
    if (at + size > bytes.length) throw new WireError(`tensor ${s.name} runs past the end of the body`);
    const offset = bytes.byteOffset + at;
    const data = s.type === "float32" ? new Float32Array(bytes.buffer, offset, count) : new BigInt64Array(bytes.buffer, offset, count);
    out[s.name] = new ort.Tensor(s.type as WireType, data, s.dims);
    at += size + pad8(size);
  }
  return out;
}
