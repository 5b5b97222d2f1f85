// One-line logs to stderr. Callers log ids, sizes and timings only, never mask or image content.
// Ids come from clients, so every line is made safe here: a control character (a newline could
// forge a whole log line, a NUL makes the log binary) is written as an escape, \n or \u0000.

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

export function createLogger(options: { quiet?: boolean; write?: (line: string) => void } = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const at = (level: string) => (line: string) => {
    if (options.quiet && level !== "error") return;
    write(`${new Date().toISOString()} ${level} ${escapeControl(line)}`);
  };
  return { info: at("info"), warn: at("warn"), error: at("error") };
}

/** C0 and C1 control characters, DEL and the Unicode line separators, escaped; all else kept. */
export function escapeControl(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const short: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return short[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
