// One-line logs to stderr. Callers log ids, sizes and timings only, never mask or image content.

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

export function createLogger(options: { quiet?: boolean; write?: (line: string) => void } = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const at = (level: string) => (line: string) => {
    if (options.quiet && level !== "error") return;
    write(`${new Date().toISOString()} ${level} ${line}`);
  };
  return { info: at("info"), warn: at("warn"), error: at("error") };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
