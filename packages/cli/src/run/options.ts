// Sizes given to `mkimage run` (--memory, --cpus), parsed into what QEMU takes.
import { RunOptionError } from './errors.js';

/** Binary multiples, as QEMU's -m reads them (M is the default unit). */
const UNIT_MIB: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };

/** `512M`, `2G`, `1536` (MiB), `512MiB`, `2gb` -> MiB (a whole number, at least 64). */
export function parseMemory(text: string | number): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT])?(?:i?B)?\s*$/i.exec(String(text));
  const mib = m ? Number(m[1]) * UNIT_MIB[(m[2] ?? 'M').toUpperCase()]! : NaN;
  if (!Number.isInteger(mib)) throw new RunOptionError('--memory', String(text), 'expected a size such as 512M or 2G (whole MiB)');
  if (mib < 64) throw new RunOptionError('--memory', String(text), 'too small: the kernel and the app need at least 64M (512M is the default)');
  return mib;
}

export function parseCpus(value: string | number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 255) throw new RunOptionError('--cpus', String(value), 'expected a whole number from 1 to 255');
  return n;
}
