import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Real servers with real ONNX sessions on a small, shared CPU: be generous.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Servers the tests start keep their pairing code here, never in the user's config folder.
    env: { PHOTOTYPE_CONFIG_DIR: mkdtempSync(join(tmpdir(), "phototype-test-config-")) },
  },
});
