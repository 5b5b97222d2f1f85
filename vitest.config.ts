import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Real servers with real ONNX sessions on a small, shared CPU: be generous.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
