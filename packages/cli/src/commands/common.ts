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
