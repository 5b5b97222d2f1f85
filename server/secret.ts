// The per-install secret: made on the first start, kept owner-only in the user's config folder,
// read by the server and the CLI. It is also the plugin's pairing code, so it is short enough to
// type: 12 symbols of Crockford's base32 (60 random bits), shown as XXXX-XXXX-XXXX. Why that is
// enough: a guesser must ask the server, which locks out after a few wrong codes a minute
// (guess-limit.ts); even unthrottled, at 5,000 guesses a second it would take 3.6 million years
// on average. Codes are compared ignoring case, spaces and dashes, and O/I/L read as 0/1/1.
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; // Crockford: no I, L, O, U
export const CODE_SYMBOLS = 12;
export const SECRET_FILE = "secret";

/** Where the secret lives: $PHOTOTYPE_CONFIG_DIR, else $XDG_CONFIG_HOME/phototype, else ~/.config/phototype. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PHOTOTYPE_CONFIG_DIR) return env.PHOTOTYPE_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "phototype");
}

/** The form codes are compared in: no spaces or dashes, upper case, confusable letters as digits. */
export function normalizeCode(code: string): string {
  return code.replace(/[\s-]+/g, "").toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
}

/** XXXX-XXXX-XXXX for people (a code of any other length is shown as it is). */
export function formatCode(code: string): string {
  const n = normalizeCode(code);
  return n.length === CODE_SYMBOLS && [...n].every((c) => ALPHABET.includes(c)) ? n.match(/.{4}/g)!.join("-") : code;
}

export function newCode(): string {
  const bytes = randomBytes(CODE_SYMBOLS);
  return formatCode(Array.from(bytes, (b) => ALPHABET[b & 31]).join(""));
}

export interface Secret {
  code: string;
  file: string;
  /** Made just now (first start). */
  created: boolean;
  /** Something the person should know, e.g. permissions that were too open and were fixed. */
  note?: string;
}

/** Reads the secret file in `dir`, or makes it (folder 0700, file 0600) when there is none. */
export function loadOrCreateSecret(dir: string = configDir()): Secret {
  const file = join(dir, SECRET_FILE);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let created = false;
  try {
    writeFileSync(file, `${newCode()}\n`, { mode: 0o600, flag: "wx" }); // wx: never overwrite
    created = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  let note: string | undefined;
  if (process.platform !== "win32" && (statSync(file).mode & 0o077) !== 0) {
    chmodSync(file, 0o600);
    note = `${file} was readable by other users; it is owner-only now (delete it to make a new code).`;
  }
  const code = readFileSync(file, "utf8").trim();
  if (!code) throw new Error(`${file} is empty; delete it and start the server again to make a new pairing code.`);
  return { code, file, created, note };
}
