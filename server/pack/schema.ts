// The model pack manifest (models/packs/NAME/pack.json): one schema for the server (TypeBox)
// and the Python exporter (models/pack.schema.json, written from this file by `npm run schema`).
import { Type, type Static } from "@sinclair/typebox";

export const PACK_SCHEMA_VERSION = 1;

export const TensorSpec = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    type: Type.Union([Type.Literal("float32"), Type.Literal("int64")]),
    // Integers are fixed sizes; a string names a dynamic axis (the batch is "batch").
    shape: Type.Array(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })]), { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type TensorSpec = Static<typeof TensorSpec>;

export const NetworkFile = Type.Object(
  {
    file: Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*\\.onnx$" }),
    sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }),
    bytes: Type.Integer({ minimum: 1, maximum: 16 * 1024 * 1024 }),
    role: Type.String({ minLength: 1 }),
    inputs: Type.Array(TensorSpec, { minItems: 1 }),
    outputs: Type.Array(TensorSpec, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type NetworkFile = Static<typeof NetworkFile>;

export const PackClass = Type.Object(
  {
    id: Type.Integer({ minimum: 0, maximum: 254 }),
    name: Type.String({ pattern: "^[a-z][a-z0-9_]*$" }),
    label: Type.String({ minLength: 1 }),
    color: Type.String({ pattern: "^#[0-9A-F]{6}$" }),
  },
  { additionalProperties: false },
);
export type PackClass = Static<typeof PackClass>;

const ClassName = Type.String({ pattern: "^[a-z][a-z0-9_]*$" });

/**
 * One face part that comes in two classes, one for each side of the face (eyes, brows, ears).
 * Named by the side of the image each class lies on, so nobody needs to know whose left the
 * data meant: the server gives each drawn part the class of its side (pipeline/sides.ts), and
 * the palette shows the part once, as `label`.
 */
export const SidePair = Type.Object(
  {
    label: Type.String({ minLength: 1 }),
    imageLeft: ClassName,
    imageRight: ClassName,
  },
  { additionalProperties: false },
);
export type SidePair = Static<typeof SidePair>;

export const ConditionKind = Type.Union([
  Type.Literal("mask"),
  Type.Literal("sketch"),
  Type.Literal("scribble"),
  Type.Literal("edges"),
]);
export type ConditionKind = Static<typeof ConditionKind>;

export const PackCondition = Type.Object(
  {
    kind: ConditionKind,
    network: Type.String({ minLength: 1 }),
    description: Type.String(),
  },
  { additionalProperties: false },
);

export const Metric = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    value: Type.Number(),
    description: Type.String(),
    command: Type.String(),
  },
  { additionalProperties: false },
);
export type Metric = Static<typeof Metric>;

export const ParityFile = Type.Object(
  {
    file: Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*\\.bin$" }),
    sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }),
    bytes: Type.Integer({ minimum: 1, maximum: 16 * 1024 * 1024 }),
    tolerance: Type.Number({ exclusiveMinimum: 0 }),
    // Per network: where its reference inputs and PyTorch outputs lie in the file.
    cases: Type.Record(
      Type.String(),
      Type.Array(
        Type.Object(
          {
            io: Type.Union([Type.Literal("input"), Type.Literal("output")]),
            name: Type.String(),
            type: Type.Union([Type.Literal("float32"), Type.Literal("int64")]),
            dims: Type.Array(Type.Integer({ minimum: 1 })),
            offset: Type.Integer({ minimum: 0 }),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);
export type ParityFile = Static<typeof ParityFile>;

/**
 * How a photo (an edit's source, an exemplar) gets its proxy mask: "encoder" = encoder -> F ->
 * proxy (the paper's); "parser" = the pack's parser -> class map -> mapper.mask -> argmax, the
 * route a drawn mask takes. Absent: "encoder".
 */
export const PhotoLayout = Type.Union([Type.Literal("encoder"), Type.Literal("parser")]);
export type PhotoLayout = Static<typeof PhotoLayout>;
// Whose own features survive where the target layout asks for what the source has there (keep.ts):
// a photo's only (absent = this), or new faces' from seeds too.
export const KeepUnchanged = Type.Union([Type.Literal("photos"), Type.Literal("all")]);
export type KeepUnchanged = Static<typeof KeepUnchanged>;

export const PackManifest = Type.Object(
  {
    schema: Type.Literal(PACK_SCHEMA_VERSION),
    name: Type.String({ pattern: "^[a-z0-9][a-z0-9-]*$" }),
    version: Type.String({ pattern: "^\\d+\\.\\d+\\.\\d+$" }),
    title: Type.String({ minLength: 1 }),
    quality: Type.String({ minLength: 1 }),
    license: Type.Object(
      {
        name: Type.String({ minLength: 1 }),
        commercialUse: Type.Literal(false),
        text: Type.String({ minLength: 1 }),
      },
      { additionalProperties: false },
    ),
    resolution: Type.Integer({ minimum: 8, maximum: 4096 }),
    latent: Type.Object({ size: Type.Integer({ minimum: 1 }), distribution: Type.Literal("normal") }, { additionalProperties: false }),
    feature: Type.Object(
      { channels: Type.Integer({ minimum: 1 }), height: Type.Integer({ minimum: 1 }), width: Type.Integer({ minimum: 1 }) },
      { additionalProperties: false },
    ),
    style: Type.Object({ size: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
    proxy: Type.Object({ k: Type.Integer({ minimum: 2, maximum: 256 }) }, { additionalProperties: false }),
    truncation: Type.Number({ minimum: 0, maximum: 1 }),
    photoLayout: Type.Optional(PhotoLayout),
    keepUnchanged: Type.Optional(KeepUnchanged),
    classes: Type.Array(PackClass, { minItems: 2 }),
    // Optional: without it the pairs come from classes named l_X and r_X (pipeline/sides.ts).
    sidePairs: Type.Optional(Type.Array(SidePair)),
    conditions: Type.Array(PackCondition, { minItems: 1 }),
    networks: Type.Record(Type.String({ pattern: "^[a-z][a-z0-9._]*$" }), NetworkFile),
    parity: Type.Optional(ParityFile),
    metrics: Type.Array(Metric),
    training: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export type PackManifest = Static<typeof PackManifest>;

// Networks every pack must have: the pipeline composes these.
export const REQUIRED_NETWORKS = ["mapping", "g1", "proxy", "rearranger", "g2"] as const;
