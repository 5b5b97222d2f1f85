#!/usr/bin/env node
// Runs the built CLI (npm run build writes dist/server/cli.js).
import { existsSync } from "node:fs";

const cli = new URL("../dist/server/cli.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("phototype: dist/server/cli.js is missing; run `npm run build` first\n");
  process.exit(2);
}
await import(cli.href);
