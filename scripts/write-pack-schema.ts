// Writes models/pack.schema.json from server/pack/schema.ts, for the Python exporter's validation.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PackManifest } from "../server/pack/schema.ts";

export function packSchemaJson(): string {
  const schema = { $schema: "http://json-schema.org/draft-07/schema#", title: "Phototype model pack", ...PackManifest };
  return JSON.stringify(schema, null, 2) + "\n";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = new URL("../models/pack.schema.json", import.meta.url);
  writeFileSync(out, packSchemaJson());
  console.log(`wrote ${fileURLToPath(out)}`);
}
