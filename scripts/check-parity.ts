// Usage: npx tsx scripts/check-parity.ts [--json] models/packs/NAME
// Exit 0 when every network matches PyTorch within the pack's tolerance, 1 when not, 2 on bad input.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkParity } from "../server/pack/parity.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const dir = args.find((a) => !a.startsWith("--"));
if (!dir) {
  console.error("usage: check-parity [--json] PACK_DIR");
  process.exit(2);
}
let manifest;
try {
  manifest = JSON.parse(readFileSync(join(dir, "pack.json"), "utf8"));
} catch (e) {
  console.error(`cannot read ${join(dir, "pack.json")}: ${(e as Error).message}`);
  process.exit(2);
}
const r = await checkParity(dir, manifest);
if (json) console.log(JSON.stringify(r));
else {
  for (const [k, v] of Object.entries(r.networks)) console.log(`${v.ok ? "ok  " : "FAIL"} ${k.padEnd(12)} ${v.maxError.toExponential(2)}`);
  console.log(`max error ${r.maxError.toExponential(2)} (tolerance ${r.tolerance})`);
}
process.exit(r.ok ? 0 : 1);
