// A CI-sized run of `npm run eval`: 4 masks x 2 seeds through the server's pipeline on the committed
// default pack, scored by a briefly trained evaluation parser on synthetic data. It checks that every
// number is computed (finite, in range), not what the numbers are; the face-detection rate included.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PYTHON } from "../../scripts/python.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "phototype-eval-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm run eval --smoke", () => {
  it("computes every metric and writes RESULTS.md with grids", () => {
    const data = join(work, "celebamask-mini");
    execFileSync(PYTHON, ["models/train/synthetic_data.py", data, "--train", "40"], { cwd: ROOT });
    execFileSync(process.execPath, ["--import", "tsx", "scripts/eval.ts", "--smoke", "--data", data, "--work", join(work, "w"),
      "--run-dir", join(work, "run"), "--parser-steps", "15"], { cwd: ROOT, stdio: "pipe", env: { ...process.env, PHOTOTYPE_THREADS: "2" } });
    const r = JSON.parse(readFileSync(join(work, "w", "results.json"), "utf8"));
    expect(r.masks).toBe(4);
    expect(r.seeds).toBe(2);
    for (const v of [r.layout.miou, r.layout.pixel_accuracy, r.parser_ceiling.miou, r.realism.precision, r.realism.recall]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    for (const v of [r.realism.fd, r.realism.floor_fd, r.identity.same_seed_distance, r.identity.different_seed_distance]) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
    }
    // face-detection rate (scripts/face-detection.ts): computed for the outputs and the real test photos
    const f = r.face_detection;
    expect(f.outputs.images).toBe(8);
    for (const set of [f.outputs, f.real, f.real_full]) {
      expect(set.images).toBeGreaterThan(0);
      expect(set.detected).toBeLessThanOrEqual(set.images);
      expect(set.rate).toBeGreaterThanOrEqual(0);
      expect(set.rate).toBeLessThanOrEqual(1);
    }
    expect(f.real.res).toBe(r.resolution);
    expect(r.pack_sha256).toMatch(/^[0-9a-f]{64}$/);
    const md = readFileSync(join(work, "w", "RESULTS.md"), "utf8");
    expect(md).toContain(r.pack_sha256);
    expect(md).toMatch(/\| \*\*Phototype `[a-z0-9-]+` \(\d+ px\)\*\* \| \*\*\d+\.\d\*\* \|/);
    expect(md).toMatch(/\| \*\*Phototype `[a-z0-9-]+` outputs \(\d+ px\)\*\* \| 8 \| \d \| \*\*\d+\.\d %\*\* \|/);
    expect(existsSync(join(work, "w", "grids", "test-masks-1.png"))).toBe(true);
  }, 300_000); // trains a parser, generates, detects faces: minutes on a busy 2-core runner

  it("says clearly what is missing", () => {
    let err = "";
    try {
      execFileSync(process.execPath, ["--import", "tsx", "scripts/eval.ts", "--smoke", "--pack", "no-such-pack", "--work", join(work, "x")], {
        cwd: ROOT,
        stdio: "pipe",
      });
    } catch (e) {
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(err).toMatch(/error: pack no-such-pack is not among the loaded packs/);
    err = "";
    try {
      execFileSync(process.execPath, ["--import", "tsx", "scripts/eval.ts", "--smoke", "--data", join(work, "nowhere"), "--work", join(work, "y")], {
        cwd: ROOT,
        stdio: "pipe",
      });
    } catch (e) {
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(err).toMatch(/dataset folder .*nowhere does not exist/);
  });
});
