// The phototype command: serve, generate (in-process, same pipeline), verify (parity per pack),
// pair (the pairing code). Usage errors, missing files, unknown packs, bad PNGs and unusable
// output folders exit 2 with one line on stderr.
import { randomInt } from "node:crypto";
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import cliProgress from "cli-progress";
import { serveConfig } from "./engine-client/serve-config.ts";
import { checkParity } from "./pack/parity.ts";
import { chooseDefaultPack, loadPacks } from "./pack/registry.ts";
import { generate } from "./pipeline/generate.ts";
import { drawnFaceProblem, faceClassIds } from "./pipeline/face.ts";
import { isImageError } from "./pipeline/image-errors.ts";
import { maskFromPng } from "./pipeline/mask.ts";
import { ensureOutDir, OutDirError } from "./out-dir.ts";
import { chooseProvider, closePackRuntime, defaultSessionSettings, openPackRuntime, type ProviderPreference } from "./pipeline/runtime.ts";
import { DEFAULT_FIT, DEFAULT_HOST, DEFAULT_PORT, MAX_FIT, MAX_SEED, MAX_VARIATIONS } from "../protocol/index.ts";
import { configDir, loadOrCreateSecret } from "./secret.ts";
import { ConfigError, DEFAULT_PACKS_DIR, startServer } from "./server.ts";
import { SERVER_VERSION } from "./version.ts";

/** A problem the user can fix; printed as one line, exit code 2. */
class UsageError extends Error {}

function outDir(dir: string): string {
  try {
    return ensureOutDir(dir);
  } catch (e) {
    if (e instanceof OutDirError) throw new UsageError(`--out ${dir}: ${e.message}`);
    throw e;
  }
}

const env = process.env;

/** Largest mask file the CLI reads: far above any mask PNG, far below what reading could hurt. */
const MAX_MASK_FILE_BYTES = 32 * 1024 * 1024;

/** The mask file's bytes, read with a cap: a folder, a device like /dev/zero or a huge file is one line. */
function readMaskFile(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(resolve(path), "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === "ENOENT" ? `mask file ${path} not found` : `cannot read mask file ${path}: ${(e as Error).message}`);
  }
  try {
    if (fstatSync(fd).isDirectory()) throw new UsageError(`--mask ${path} is a folder; give a PNG file`);
    const buffer = Buffer.alloc(MAX_MASK_FILE_BYTES + 1);
    let size = 0;
    for (let n; size < buffer.length && (n = readSync(fd, buffer, size, buffer.length - size, null)) > 0; ) size += n;
    if (size > MAX_MASK_FILE_BYTES) throw new UsageError(`mask file ${path} is larger than ${MAX_MASK_FILE_BYTES >> 20} MiB; a mask PNG is far smaller`);
    return new Uint8Array(buffer.buffer, 0, size);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read mask file ${path}: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/** --packs, else $PHOTOTYPE_PACKS, else models/packs here, else the one beside this install. */
function packsDir(flag: string | undefined): string {
  if (flag) return resolve(flag);
  if (env.PHOTOTYPE_PACKS) return resolve(env.PHOTOTYPE_PACKS);
  const candidates = [resolve(DEFAULT_PACKS_DIR), fileURLToPath(new URL("../../models/packs", import.meta.url)), fileURLToPath(new URL("../models/packs", import.meta.url))];
  return candidates.find((d) => existsSync(d)) ?? candidates[0];
}

/** The checkout holding engine/app.py: here, else the one beside this install. */
function checkoutRoot(): string {
  const candidates = [resolve("."), fileURLToPath(new URL("../..", import.meta.url)), fileURLToPath(new URL("..", import.meta.url))];
  const found = candidates.find((d) => existsSync(join(d, "engine", "app.py")));
  if (!found) throw new UsageError("engine/app.py not found: run this in a Phototype checkout");
  return found;
}

const int = (name: string, min: number, max: number) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}.`);
  return Number(v);
};
const unit = (v: string) => {
  const n = Number(v);
  if (v.trim() === "" || !(n >= 0 && n <= 1)) throw new InvalidArgumentError("must be a number from 0 to 1.");
  return n;
};
const providerOption = () =>
  new Option("--provider <name>", "execution provider: auto tries CUDA, then CPU").choices(["auto", "cuda", "cpu"]).default(env.PHOTOTYPE_PROVIDER ?? "auto");

const program = new Command("phototype")
  .description("Flat face layouts to photos with the pack's ONNX networks")
  .version(SERVER_VERSION)
  .exitOverride()
  .configureOutput({ outputError: (s, write) => write(s.startsWith("error:") ? `phototype: ${s.slice(7)}` : s) });

program
  .command("serve")
  .description("run the HTTP + WebSocket server")
  .option("--port <n>", "port (0 picks a free one)", int("port", 0, 65535), DEFAULT_PORT)
  .option("--host <address>", "address to bind; anything but loopback needs --token", DEFAULT_HOST)
  .option("--token <token>", "secret every request must carry instead of the stored pairing code (or $PHOTOTYPE_TOKEN)", env.PHOTOTYPE_TOKEN)
  .option("--packs <dir>", "packs folder (or $PHOTOTYPE_PACKS; default models/packs)")
  .option("--default-pack <name>", "pack used when a request names none (or $PHOTOTYPE_DEFAULT_PACK)", env.PHOTOTYPE_DEFAULT_PACK)
  .option("--pack <name>", "the same as --default-pack, named as generate names it")
  .option("--timeout <seconds>", "per-request timeout", int("timeout", 1, 3600), 60)
  .option("--max-waiting <n>", "requests that may wait in the queue", int("max-waiting", 1, 10000), 32)
  .option("--max-batch <n>", "images that waiting requests of one pack may share in one run (1: one request at a time)", int("max-batch", 1, 64), 8)
  .option("--concurrency <n>", "runs at once (default: 1 on the CPU, 2 on CUDA, 4 with --engine)", int("concurrency", 1, 256))
  .option("--engine <url>", "run the networks on a serving engine at this URL instead of in this process (or $PHOTOTYPE_ENGINE; docs/SCALING.md)", env.PHOTOTYPE_ENGINE)
  .option("--engine-timeout <seconds>", "longest wait for the engine to run one network", int("engine-timeout", 1, 3600), 30)
  .option("--engine-token <token>", "token the engine's config asks for (or $PHOTOTYPE_ENGINE_TOKEN)", env.PHOTOTYPE_ENGINE_TOKEN)
  .addOption(providerOption())
  .action(async (o) => {
    let server;
    const engine: string | undefined = o.engine || undefined;
    if (engine && !/^https?:\/\/[^/\s]+/.test(engine)) throw new UsageError(`--engine ${engine}: give the engine's URL, such as http://127.0.0.1:8000`);
    try {
      server = await startServer({
        port: o.port,
        host: o.host,
        token: o.token || undefined,
        packsDir: packsDir(o.packs),
        defaultPack: o.pack ?? o.defaultPack,
        provider: o.provider as ProviderPreference,
        queue: { timeoutMs: o.timeout * 1000, maxWaiting: o.maxWaiting, maxBatch: o.maxBatch, ...(o.concurrency ? { concurrency: o.concurrency } : {}) },
        remote: engine ? { url: engine, timeoutMs: o.engineTimeout * 1000, token: o.engineToken || undefined } : undefined,
      });
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(e.message);
      throw e;
    }
    const running = server;
    const stop = (signal: string) => {
      process.stderr.write(`${signal}: shutting down\n`);
      running.close().then(() => process.exit(0));
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });

program
  .command("generate")
  .description("generate photos from a mask PNG, in this process")
  .requiredOption("--mask <file>", "8-bit greyscale class-id PNG, or a PNG in the pack's palette colours (a non-square one gives its centre square)")
  .option("--seed <n>", `first seed, 0 to ${MAX_SEED}; variation i uses seed + i (default: a random seed, printed)`, int("seed", 0, MAX_SEED))
  .option("-n, --variations <n>", `how many images, 1 to ${MAX_VARIATIONS} (the server's limit too; another --seed gives more)`, int("variations", 1, MAX_VARIATIONS), 1)
  .option("--out <dir>", "output folder, made if missing", ".")
  .option("--pack <name>", "pack (default: $PHOTOTYPE_DEFAULT_PACK, else faces-128, else the first pack found)", env.PHOTOTYPE_DEFAULT_PACK)
  .option("--packs <dir>", "packs folder (or $PHOTOTYPE_PACKS)")
  .option("--truncation <t>", "truncation from 0 to 1 (default: the pack's)", unit)
  .option("--batch <n>", "images per network run", int("batch", 1, 64), 8)
  .option("--fit <k>", `fit the layout: make k candidates per image and keep the ones the pack's parser finds closest to the mask, 1 (off) to ${MAX_FIT}`, int("fit", 1, MAX_FIT), DEFAULT_FIT)
  .addOption(providerOption())
  .action(async (o) => {
    const maskBytes = readMaskFile(o.mask);
    const out = outDir(o.out); // before any work: a bad folder is said at once
    const registry = loadPacks(packsDir(o.packs), { log: (line) => process.stderr.write(`${line}\n`) });
    const name: string | null = o.pack ?? chooseDefaultPack(registry.packs.keys()).name;
    const pack = name ? registry.packs.get(name) : undefined;
    if (!pack) {
      const known = [...registry.packs.keys()].join(", ") || "none";
      throw new UsageError(`${name ? `unknown pack ${name}` : "no pack loaded"} (packs: ${known} in ${registry.root})`);
    }
    let read;
    try {
      read = maskFromPng(maskBytes, pack.manifest.classes, pack.manifest.resolution);
    } catch (e) {
      if (isImageError(e)) throw new UsageError(`${o.mask}: ${e.message}`);
      throw e;
    }
    if (read.note) process.stderr.write(`note: ${read.note}\n`);
    if (read.warning) process.stderr.write(`warning: ${read.warning}\n`);
    const noFace = drawnFaceProblem(read.mask, faceClassIds(pack.manifest.classes));
    if (noFace) process.stderr.write(`warning: ${noFace}\n`);

    const fit: number = o.fit;
    if (fit > 1 && !pack.manifest.networks.parser) throw new UsageError(`pack ${pack.name} has no parser, so it cannot fit the layout; leave out --fit`);
    const choice = await chooseProvider(o.provider as ProviderPreference, join(pack.dir, pack.manifest.networks.mapping.file));
    const rt = await openPackRuntime(pack, defaultSessionSettings(choice.provider));
    const seed: number = o.seed ?? randomInt(0, MAX_SEED + 1);
    const total: number = o.variations;
    const last = (seed + total * fit - 1) % (MAX_SEED + 1);
    const fitting = fit > 1 ? `, fitting the layout: the best ${total} of ${total * fit} candidates` : "";
    process.stderr.write(`${pack.name} (${pack.manifest.resolution} px, ${read.source} mask) on ${choice.provider}, seeds ${seed}..${last}${fitting}\n`);
    if (seed + total * fit - 1 > MAX_SEED) process.stderr.write(`warning: seeds go up to ${MAX_SEED}, then start again at 0\n`);
    const bar = new cliProgress.SingleBar({ format: "{bar} {value}/{total} images | {duration_formatted}", stream: process.stderr }, cliProgress.Presets.shades_classic);
    bar.start(total, 0);
    const written: string[] = [];
    const fitLines: string[] = [];
    try {
      for (let done = 0; done < total; done += o.batch) {
        const n = Math.min(o.batch, total - done);
        // With fit, each run's candidates are seeds of their own: run i starts after run i-1's last.
        const result = await generate(rt, { mask: read.mask, seed: (seed + done * fit) % (MAX_SEED + 1), variations: n, truncation: o.truncation, fit });
        if (fit > 1) fitLines.push(...result.images.map((img) => `seed ${img.seed}: layout mIoU ${img.fitScore} by the pack's parser`), `fit: ${result.timings.fit} ms`);
        for (const img of result.images) {
          const file = join(out, `${pack.name}-${img.seed}.png`);
          try {
            writeFileSync(file, img.png);
          } catch (e) {
            throw new UsageError(`cannot write ${file}: ${(e as Error).message}`);
          }
          written.push(file);
        }
        bar.update(done + n);
      }
    } finally {
      bar.stop();
      await closePackRuntime(rt);
    }
    for (const line of fitLines) process.stderr.write(`${line}\n`);
    for (const f of written) console.log(f);
  });

program
  .command("engine")
  .description("write the Ray Serve config that serves the packs on an engine (docs/SCALING.md)")
  .option("--packs <dir>", "packs folder (or $PHOTOTYPE_PACKS)")
  .option("--pack <name...>", "packs to serve (default: every pack that loads)")
  .option("--out <file>", "write the config here instead of to stdout")
  .option("--host <address>", "address the engine's HTTP proxy binds (0.0.0.0 for other machines' servers)", "127.0.0.1")
  .option("--port <n>", "the engine's HTTP port", int("port", 1, 65535), 8000)
  .option("--route-prefix <path>", "serve the packs at <path>/<pack>", "/")
  .option("--replicas <n>", "replicas of each pack (ignored with --autoscale)", int("replicas", 1, 1000), 1)
  .option("--autoscale <min-max>", "let Serve scale each pack between min and max replicas with the load, e.g. 1-8")
  .option("--cpus-per-replica <x>", "CPUs Ray reserves for a replica", "1")
  .option("--gpus-per-replica <x>", "GPUs Ray reserves for a replica (with onnxruntime-gpu on the engine)", "0")
  .option("--threads <n>", "ONNX Runtime threads a replica (default: its CPUs)", int("threads", 1, 1024))
  .addOption(new Option("--provider <name>", "execution provider in the replicas").choices(["auto", "cpu", "cuda"]).default("auto"))
  .option("--max-batch-size <n>", "calls one engine batch may hold (@serve.batch)", int("max-batch-size", 1, 1024), 8)
  .option("--batch-wait-ms <ms>", "how long a call waits for others to batch with (0: calls that queue up while a run is busy share the next one)", "0")
  .option("--max-rows <n>", "rows one network run may hold", int("max-rows", 1, 4096), 64)
  .option("--engine-root <dir>", "where this checkout is on the engine's machines (default: here)")
  .option("--token <token>", "token the engine asks of servers (give them serve --engine-token)")
  .addOption(new Option("--test-delay-ms <ms>", "test only: every call waits this long first").hideHelp())
  .action((o) => {
    const registry = loadPacks(packsDir(o.packs), { log: (line) => process.stderr.write(`${line}\n`) });
    const names: string[] = o.pack ?? [...registry.packs.keys()];
    const packs = names.map((n) => {
      const p = registry.packs.get(n);
      if (!p) throw new UsageError(`unknown pack ${n} (packs: ${[...registry.packs.keys()].join(", ") || "none"} in ${registry.root})`);
      return p;
    });
    if (!packs.length) throw new UsageError(`no pack loaded from ${registry.root}`);
    const number = (flag: string, v: string, min: number) => {
      const n = Number(v);
      if (v.trim() === "" || !(n >= min)) throw new UsageError(`${flag} must be a number of at least ${min}.`);
      return n;
    };
    let replicas: number | { min: number; max: number } = o.replicas;
    if (o.autoscale) {
      const m = /^(\d+)-(\d+)$/.exec(o.autoscale);
      if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) < 1) throw new UsageError("--autoscale takes min-max replicas, such as 1-8.");
      replicas = { min: Number(m[1]), max: Number(m[2]) };
    }
    if (!/^\/[\w\-/]*$/.test(o.routePrefix)) throw new UsageError("--route-prefix is a path such as / or /phototype.");
    const text = serveConfig({
      packs,
      root: checkoutRoot(),
      engineRoot: o.engineRoot,
      host: o.host,
      port: o.port,
      routePrefix: o.routePrefix,
      replicas,
      cpusPerReplica: number("--cpus-per-replica", o.cpusPerReplica, 0),
      gpusPerReplica: number("--gpus-per-replica", o.gpusPerReplica, 0),
      threads: o.threads,
      provider: o.provider,
      maxBatchSize: o.maxBatchSize,
      batchWaitMs: number("--batch-wait-ms", o.batchWaitMs, 0),
      maxRows: o.maxRows,
      token: o.token,
      testDelayMs: o.testDelayMs ? number("--test-delay-ms", o.testDelayMs, 0) : undefined,
    });
    if (!o.out) return void process.stdout.write(text);
    try {
      writeFileSync(o.out, text, { mode: o.token ? 0o600 : 0o644 });
    } catch (e) {
      throw new UsageError(`cannot write ${o.out}: ${(e as Error).message}`);
    }
    process.stderr.write(`wrote ${o.out}: serve it with \`.venv-engine/bin/serve run ${o.out}\` (docs/SCALING.md)\n`);
  });

program
  .command("pair")
  .description("print the pairing code the Figma plugin asks for (made on first use)")
  .action(() => {
    const secret = loadOrCreateSecret(configDir());
    if (secret.note) process.stderr.write(`${secret.note}\n`);
    // The code alone on stdout, so scripts can use $(npx phototype pair); the rest on stderr.
    process.stderr.write(`Type this code in the Figma plugin when it asks (kept in ${secret.file}):\n`);
    console.log(secret.code);
  });

program
  .command("verify")
  .description("check every pack's ONNX networks against the exporter's PyTorch outputs")
  .option("--packs <dir>", "packs folder (or $PHOTOTYPE_PACKS)")
  .addOption(providerOption())
  .action(async (o) => {
    const registry = loadPacks(packsDir(o.packs), { log: () => {} });
    let ok = registry.packs.size > 0;
    if (!ok) console.log(`no packs loaded from ${registry.root}`);
    for (const r of registry.refused) {
      ok = false;
      console.log(`FAIL ${r.folder}: refused: ${r.reason}`);
    }
    for (const pack of registry.packs.values()) {
      const fit: number = o.fit;
    if (fit > 1 && !pack.manifest.networks.parser) throw new UsageError(`pack ${pack.name} has no parser, so it cannot fit the layout; leave out --fit`);
    const choice = await chooseProvider(o.provider as ProviderPreference, join(pack.dir, pack.manifest.networks.mapping.file));
      if (!pack.manifest.parity) {
        ok = false;
        console.log(`FAIL ${pack.name}: no parity vectors in pack.json, cannot verify`);
        continue;
      }
      const r = await checkParity(pack.dir, pack.manifest, [choice.provider]);
      ok &&= r.ok;
      console.log(`${r.ok ? "ok  " : "FAIL"} ${pack.name} on ${choice.provider}: max error ${r.maxError.toExponential(2)} (tolerance ${r.tolerance})`);
      for (const [k, v] of Object.entries(r.networks)) console.log(`     ${v.ok ? "ok  " : "FAIL"} ${k.padEnd(14)} ${v.maxError.toExponential(2)}`);
    }
    process.exitCode = ok ? 0 : 1;
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // help and --version end here with code 0; usage mistakes exit 2
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  if (e instanceof UsageError) {
    process.stderr.write(`phototype: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`phototype: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
}
