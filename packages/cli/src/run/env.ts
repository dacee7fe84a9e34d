// The boot-time environment of `mkimage run`: -e and --env-file values become one dotenv file that
// QEMU hands to the guest over fw_cfg (never the kernel command line, which the console, `ps` and
// the guest's /proc/cmdline show). The guest's parser is DOTENV_AWK in init/dotenv.ts; the
// format is written once there and followed here.
import { open, readFile } from 'node:fs/promises';
import { RunOptionError } from './errors.js';

/** A variable name the guest's dotenv parser accepts (init/dotenv.ts). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `-e KEY=VALUE`, or `-e KEY` to pass this shell's value of KEY (as `docker run -e` does), so a
 * secret need not be typed on the command line.
 */
export function parseEnvArg(arg: string, hostEnv: NodeJS.ProcessEnv = process.env): [string, string] {
  const eq = arg.indexOf('=');
  const key = eq < 0 ? arg : arg.slice(0, eq);
  if (!ENV_NAME.test(key)) throw new RunOptionError('-e', arg, 'expected KEY=VALUE with KEY made of letters, digits and _ (not starting with a digit)');
  let value: string;
  if (eq >= 0) value = arg.slice(eq + 1);
  else {
    const v = hostEnv[key];
    if (v === undefined) throw new RunOptionError('-e', arg, `${key} is not set in this shell; give -e ${key}=VALUE`);
    value = v;
  }
  if (value.includes('\0')) throw new RunOptionError('-e', key, 'a value cannot hold a NUL byte');
  return [key, value];
}

/** Double-quoted dotenv value: the guest decodes \n \r \t \" \\ \$ (init/dotenv.ts dq_scan). */
export function dotenvQuote(value: string): string {
  const escaped = value.replace(/[\\"$\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', $: '\\$', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!);
  return `"${escaped}"`;
}

/** `KEY="value"` lines, one per entry, in order (the guest evaluates them in order: later wins). */
export function dotenvLines(entries: ReadonlyArray<readonly [string, string]>): string {
  return entries.map(([k, v]) => {
    if (!ENV_NAME.test(k)) throw new RunOptionError('env', k, 'not a valid variable name');
    if (v.includes('\0')) throw new RunOptionError('env', k, 'a value cannot hold a NUL byte');
    return `${k}=${dotenvQuote(v)}\n`;
  }).join('');
}

/**
 * The 1-based line where a double-quoted value opens and never closes, or undefined. The guest
 * would read every later line as part of that value (and skip them all with one message), which
 * would swallow the -e lines we append: so we find it here first. Mirrors DOTENV_AWK's rules.
 */
export function unterminatedQuoteLine(text: string): number | undefined {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let openedAt: number | undefined;
  // Scans a double-quoted run; true when the closing quote is seen. A backslash escapes the next
  // character, except a backslash that ends the line (the awk's `i < length(s)`).
  const closes = (s: string): boolean => {
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '\\' && i < s.length - 1) i++;
      else if (s[i] === '"') return true;
    }
    return false;
  };
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (openedAt !== undefined) {
      if (closes(line)) openedAt = undefined;
      return;
    }
    const l = line.replace(/^[ \t]+/, '').replace(/^export[ \t]+/, '');
    if (l === '' || l.startsWith('#')) return;
    const eq = l.indexOf('=');
    if (eq < 0 || !ENV_NAME.test(l.slice(0, eq).replace(/[ \t]+$/, ''))) return;
    const v = l.slice(eq + 1).replace(/^[ \t]+/, '');
    if (v.startsWith('"') && !closes(v.slice(1))) openedAt = i + 1;
  });
  return openedAt;
}

export interface EnvFileText {
  /** The dotenv text for fw_cfg. */
  text: string;
  /** Messages for the user (host side), e.g. an unterminated quote we cut off. */
  warnings: string[];
}

/**
 * The env file's lines as given (so the guest reports a malformed line by the user's own line
 * number), then the -e entries, which therefore win. An unterminated double quote is cut off here
 * (those lines blanked, numbering kept) and reported, since the guest would otherwise read the -e
 * lines into it.
 */
export function composeEnv(envFile: { name: string; text: string } | undefined, entries: ReadonlyArray<readonly [string, string]>): EnvFileText {
  const warnings: string[] = [];
  let text = '';
  if (envFile) {
    if (envFile.text.includes('\0')) throw new RunOptionError('--env-file', envFile.name, 'holds a NUL byte; is it a text file?');
    const lines = envFile.text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const cut = unterminatedQuoteLine(envFile.text);
    if (cut !== undefined) {
      warnings.push(`${envFile.name} line ${cut}: unterminated double quote; lines ${cut}-${lines.length} skipped`);
      lines.fill('', cut - 1);
    }
    text = lines.map((l) => `${l}\n`).join('');
  }
  return { text: text + dotenvLines(entries), warnings };
}

export async function readEnvFile(path: string): Promise<{ name: string; text: string }> {
  try {
    return { name: path, text: await readFile(path, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RunOptionError('--env-file', path, code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? (err as Error).message})`);
  }
}

/** Writes `text` to a new file only its owner can read (values may be secrets). */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
}
