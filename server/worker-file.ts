// Where a worker thread's module is: built JavaScript beside the running bundle (dist/server/), or
// the TypeScript source through tsx when the server runs from source (tests, scripts).
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

/** `name` without extension, e.g. "decode-worker"; `from` is the caller's import.meta.url. */
export function workerFile(name: string, from: string): { filename: string; execArgv: string[] } {
  if (!from.endsWith(".ts")) return { filename: new URL(`./${name}.js`, from).href, execArgv: [] };
  const tsx = pathToFileURL(createRequire(from).resolve("tsx")).href;
  return { filename: new URL(`./${name}.ts`, from).href, execArgv: ["--import", tsx] };
}
