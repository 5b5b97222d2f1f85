// Checks a pack's ONNX files against the PyTorch outputs the exporter recorded (parity.bin).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import type { PackManifest } from "./schema.ts";

export interface ParityResult {
  ok: boolean;
  tolerance: number;
  maxError: number;
  networks: Record<string, { maxError: number; ok: boolean }>;
}

function tensorAt(buf: Buffer, c: { type: "float32" | "int64"; dims: number[]; offset: number }): ort.Tensor {
  const n = c.dims.reduce((a, b) => a * b, 1);
  const bytes = buf.subarray(c.offset, c.offset + n * (c.type === "int64" ? 8 : 4));
  const copy = new Uint8Array(bytes).buffer; // aligned copy
  return c.type === "int64"
    ? new ort.Tensor("int64", new BigInt64Array(copy), c.dims)
    : new ort.Tensor("float32", new Float32Array(copy), c.dims);
}

// Float outputs: max |a - b| / max(1, max |b|). Integer outputs (argmax maps): share of differing values,
// since a near-tie may flip between runtimes without meaning anything.
export function relativeError(got: ort.Tensor, want: ort.Tensor): number {
  const a = got.data as Float32Array | BigInt64Array;
  const b = want.data as Float32Array | BigInt64Array;
  if (a.length !== b.length) return Infinity;
  if (b instanceof BigInt64Array) {
    let diff = 0;
    for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) diff++;
    return diff / Math.max(1, b.length);
  }
  let maxAbs = 0;
  let maxRef = 1;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (!(d <= maxAbs)) maxAbs = d; // NaN-safe: NaN wins
    maxRef = Math.max(maxRef, Math.abs(b[i] as number));
  }
  return maxAbs / maxRef;
}

export async function checkParity(dir: string, manifest: PackManifest, providers: string[] = ["cpu"]): Promise<ParityResult> {
  if (!manifest.parity) throw new Error(`pack ${manifest.name} has no parity vectors`);
  const buf = readFileSync(join(dir, manifest.parity.file));
  const tol = manifest.parity.tolerance;
  const networks: ParityResult["networks"] = {};
  for (const [key, cases] of Object.entries(manifest.parity.cases)) {
    const net = manifest.networks[key];
    if (!net) throw new Error(`parity names network ${key}, which the pack lacks`);
    const session = await ort.InferenceSession.create(join(dir, net.file), { executionProviders: providers });
    const feeds: Record<string, ort.Tensor> = {};
    for (const c of cases.filter((c) => c.io === "input")) feeds[c.name] = tensorAt(buf, c);
    const out = await session.run(feeds);
    let worst = 0;
    for (const c of cases.filter((c) => c.io === "output")) {
      const got = out[c.name];
      worst = Math.max(worst, got ? relativeError(got, tensorAt(buf, c)) : Infinity);
    }
    await session.release();
    networks[key] = { maxError: worst, ok: worst <= tol };
  }
  const maxError = Math.max(0, ...Object.values(networks).map((n) => n.maxError));
  return { ok: Object.values(networks).every((n) => n.ok), tolerance: tol, maxError, networks };
}
