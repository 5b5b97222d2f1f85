// A CI-sized run of `npm run eval`: 4 layouts x 2 seeds through the server's pipeline on the committed
// default pack, on synthetic data, scored by the committed evaluation parser. It checks that every
// number is computed (finite, in range), not what the numbers are; and that bad input stops with one line.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    execFileSync(PYTHON, ["-m", "phototype_train", "data", "synthetic", data, "--train", "40"], { cwd: ROOT });
    execFileSync(process.execPath, ["--import", "tsx", "scripts/eval.ts", "--smoke", "--data", data, "--work", join(work, "w")],
      { cwd: ROOT, stdio: "pipe", env: { ...process.env, PHOTOTYPE_THREADS: "2" } });
    const r = JSON.parse(readFileSync(join(work, "w", "results.json"), "utf8"));
    expect(r.masks).toBe(4);
    expect(r.seeds).toBe(2);
    const unit = (v: number) => {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    };
    for (const row of Object.values(r.layout) as { miou: number; pixel_accuracy: number }[]) [row.miou, row.pixel_accuracy].forEach(unit);
    for (const space of ["mobilenet", "parser"]) {
      for (const set of ["exact", "designer", "unconditional", "floor"]) {
        const x = r.realism[space][set];
        [x.precision, x.recall].forEach(unit);
        expect(Number.isFinite(x.fd) && x.fd >= 0).toBe(true);
        expect(Number.isFinite(x.kid)).toBe(true);
      }
    }
    for (const v of [r.identity.exact.same_seed_distance, r.identity.exact.different_seed_distance, r.identity.real.same_person_distance]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(2);
    }
    [r.rearranger.rearranged.miou, r.rearranger.source_unmoved.miou, r.rearranger.self.miou].forEach(unit);
    // Off-habit layouts: all four kinds from the 4 synthetic faces, 2 seeds each, every measure a share.
    expect(r.off_habit.per_kind).toBe(4);
    expect(Object.keys(r.off_habit.kinds)).toEqual(["wide", "ears", "hat", "no-hair"]);
    for (const row of Object.values(r.off_habit.kinds) as Record<string, number>[]) [row.drawn, row.out, ...(row.iou === undefined ? [] : [row.iou])].forEach(unit);
    expect(r.off_habit.kinds["no-hair"].drawn).toBe(0);
    expect(r.off_habit.kinds.wide.drawn).toBeGreaterThan(0.55);
    const f = r.face_detection;
    expect(f.exact.images).toBe(8);
    expect(f.unconditional.images).toBe(8);
    for (const set of [f.exact, f.designer, f.unconditional, f.real, f.real_full]) unit(set.rate);
    expect(r.eval_parser.sha256).toMatch(/^[0-9a-f]{64}$/);
    const md = readFileSync(join(work, "w", "RESULTS.md"), "utf8");
    expect(md).toContain(r.networks_sha256);
    expect(md).toContain(r.eval_parser.sha256);
    expect(md).toMatch(/\| \*\*Phototype `[a-z0-9-]+` \(\d+ px\), exact test masks\*\* \| \*\*\d+\.\d\*\* \|/);
    expect(md).toMatch(/FD-MobileNetV2/);
    expect(md).toMatch(/## Off-habit layouts/);
    for (const g of ["test-masks-1.png", "designer-masks-1.png", "off-habit-1.png", "unconditional.png"]) expect(existsSync(join(work, "w", "grids", g))).toBe(true);
  }, 600_000); // generates, detects and embeds faces, scores: minutes on a busy 2-core runner

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
    // A train/ run chooses settings; its numbers never go into pack.json.
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/eval.ts", "--split", "train", "--pack-metrics", "--work", join(work, "t")], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/error: --pack-metrics takes a test\/ run/);
  });

  it("refuses a missing or changed evaluation parser in one line and writes no RESULTS.md", () => {
    const dir = join(work, "parser");
    mkdirSync(dir);
    const out = join(work, "bad", "RESULTS.md");
    const runWith = () => {
      const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/eval.ts", "--smoke", "--work", join(work, "z"), "--out", out], {
        cwd: ROOT,
        env: { ...process.env, PHOTOTYPE_EVAL_PARSER_DIR: dir },
        encoding: "utf8",
      });
      expect(r.status).not.toBe(0);
      expect(r.stderr).not.toMatch(/Traceback/);
      expect(existsSync(out)).toBe(false);
      return r.stderr;
    };
    expect(runWith()).toMatch(/error: the evaluation parser .* is missing/);
    copyFileSync(join(ROOT, "models/eval/parser.json"), join(dir, "parser.json"));
    const weights = readFileSync(join(ROOT, "models/eval/parser.pt"));
    weights[weights.length >> 1] ^= 1;
    writeFileSync(join(dir, "parser.pt"), weights);
    expect(runWith()).toMatch(/error: the evaluation parser .* was changed; restore it with git/);
  });
});
