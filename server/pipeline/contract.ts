// What the pipeline needs from a pack's networks, checked against pack.json before any session
// opens. Tensors are addressed by position (names come from pack.json); checking every shape
// against the pack's own latent/feature/style/K/resolution catches a reordered or wrong export.
import type { PackManifest, TensorSpec } from "../pack/schema.ts";

type Dim = number | "batch" | "any";

function describe(dims: readonly Dim[]): string {
  return `[${dims.join(", ")}]`;
}

function checkTensor(
  problems: string[],
  where: string,
  spec: TensorSpec | undefined,
  type: TensorSpec["type"],
  dims: readonly Dim[],
): void {
  if (!spec) {
    problems.push(`${where} is missing (expected ${type} ${describe(dims)})`);
    return;
  }
  const shapeOk =
    spec.shape.length === dims.length &&
    dims.every((d, i) => {
      const got = spec.shape[i];
      if (d === "batch") return i === 0 && typeof got === "string";
      if (d === "any") return typeof got === "number";
      return got === d;
    });
  if (spec.type !== type || !shapeOk) {
    problems.push(`${where} ${spec.name} is ${spec.type} [${spec.shape.join(", ")}], expected ${type} ${describe(dims)}`);
  }
}

/** Every way the pack's networks disagree with what the pipeline feeds and reads; empty when usable. */
export function pipelineContractProblems(m: PackManifest): string[] {
  const problems: string[] = [];
  const n = m.networks;
  const Z = m.latent.size, S = m.style.size, K = m.proxy.k, R = m.resolution;
  const F: Dim[] = ["batch", m.feature.channels, m.feature.height, m.feature.width];
  const P: Dim[] = ["batch", m.feature.height, m.feature.width];
  const count = (key: string, inputs: number, outputs: number) => {
    const net = n[key];
    if (!net) return false;
    if (net.inputs.length !== inputs) problems.push(`network ${key} has ${net.inputs.length} inputs, the pipeline feeds ${inputs}`);
    if (net.outputs.length < outputs) problems.push(`network ${key} has ${net.outputs.length} outputs, the pipeline reads ${outputs}`);
    return true;
  };
  if (count("mapping", 2, 1)) {
    checkTensor(problems, "mapping input 0 (latent)", n.mapping.inputs[0], "float32", ["batch", Z]);
    checkTensor(problems, "mapping input 1 (truncation)", n.mapping.inputs[1], "float32", ["batch", 1]);
    checkTensor(problems, "mapping output 0 (w)", n.mapping.outputs[0], "float32", ["batch", "any"]);
  }
  const wSize = n.mapping?.outputs[0]?.shape[1];
  if (count("g1", 1, 2)) {
    checkTensor(problems, "g1 input 0 (w)", n.g1.inputs[0], "float32", ["batch", typeof wSize === "number" ? wSize : "any"]);
    checkTensor(problems, "g1 output 0 (features)", n.g1.outputs[0], "float32", F);
    checkTensor(problems, "g1 output 1 (style)", n.g1.outputs[1], "float32", ["batch", S]);
  }
  if (count("proxy", 1, 1)) {
    checkTensor(problems, "proxy input 0 (features)", n.proxy.inputs[0], "float32", F);
    checkTensor(problems, "proxy output 0 (proxy mask)", n.proxy.outputs[0], "int64", P);
  }
  if (count("rearranger", 3, 1)) {
    checkTensor(problems, "rearranger input 0 (features)", n.rearranger.inputs[0], "float32", F);
    checkTensor(problems, "rearranger input 1 (source proxy)", n.rearranger.inputs[1], "int64", P);
    checkTensor(problems, "rearranger input 2 (target proxy)", n.rearranger.inputs[2], "int64", P);
    checkTensor(problems, "rearranger output 0 (features)", n.rearranger.outputs[0], "float32", F);
  }
  if (count("g2", 2, 1)) {
    checkTensor(problems, "g2 input 0 (features)", n.g2.inputs[0], "float32", F);
    checkTensor(problems, "g2 input 1 (style)", n.g2.inputs[1], "float32", ["batch", S]);
    checkTensor(problems, "g2 output 0 (image)", n.g2.outputs[0], "float32", ["batch", 3, R, R]);
  }
  for (const cond of m.conditions) {
    if (!count(cond.network, 1, 1)) continue;
    const net = n[cond.network];
    if (cond.kind === "mask" || cond.kind === "scribble") {
      checkTensor(problems, `${cond.network} input 0 (class ids)`, net.inputs[0], "int64", ["batch", R, R]);
    } else {
      checkTensor(problems, `${cond.network} input 0 (stroke map)`, net.inputs[0], "float32", ["batch", 1, R, R]);
    }
    checkTensor(problems, `${cond.network} output 0 (proxy logits)`, net.outputs[0], "float32", ["batch", K, m.feature.height, m.feature.width]);
  }
  // Optional networks: a pack without them serves everything but photos.
  const photo: Dim[] = ["batch", 3, R, R];
  if (count("encoder", 1, 2)) {
    checkTensor(problems, "encoder input 0 (photo)", n.encoder.inputs[0], "float32", photo);
    checkTensor(problems, "encoder output 0 (features)", n.encoder.outputs[0], "float32", F);
    checkTensor(problems, "encoder output 1 (style)", n.encoder.outputs[1], "float32", ["batch", S]);
  }
  if (count("parser", 1, 1)) {
    // Channel i is the logit of class id i, so every class id needs a channel.
    const channels = Math.max(...m.classes.map((c) => c.id)) + 1;
    checkTensor(problems, "parser input 0 (photo)", n.parser.inputs[0], "float32", photo);
    checkTensor(problems, "parser output 0 (class logits)", n.parser.outputs[0], "float32", ["batch", channels, R, R]);
  }
  return problems;
}

/** A spec's shape with its batch axis set to `batch`. */
export function dimsFor(spec: TensorSpec, batch: number): number[] {
  return spec.shape.map((d) => (typeof d === "string" ? batch : d));
}
