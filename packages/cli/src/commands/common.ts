// Small helpers every command shares.
import { isAbsolute, resolve } from 'node:path';

/**
 * Resolves a path the user typed. pnpm runs scripts from the repository root, so a relative path
 * is taken against INIT_CWD (where the user ran `pnpm mkimage`) when pnpm/npm set it.
 */
export function userPath(p: string): string {
  if (p === '-' || isAbsolute(p)) return p;
  return resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

/** SOURCE_DATE_EPOCH (reproducible-builds.org spec): a non-negative integer of seconds; default 0. */
export function readSourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return 0;
  if (!/^\d+$/.test(raw)) {
    throw Object.assign(new Error(`SOURCE_DATE_EPOCH=${raw} is not a whole number of seconds since 1970; unset it or fix it`), { code: 'E_USAGE' });
  }
  return Number(raw);
}

const usage = (message: string): Error => Object.assign(new Error(message), { code: 'E_USAGE' });

/** "512M", "1G", "4096", "1.5GiB" or "fit" -> bytes (binary units: K = 1024). */
export function parseSize(text: string): number | 'fit' {
  if (text === 'fit') return 'fit';
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?[bB])?$/.exec(text.trim());
  if (!m) throw usage(`--size ${text}: give bytes, a size like 512M or 2G, or "fit"`);
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw usage(`--size ${text} is too large`);
  return bytes;
}
