// Locating the kernel and its module tree in an extracted linux-image-* package.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KernelNotFoundError } from './errors.js';

export interface KernelFiles {
  /** The kernel release, e.g. "6.1.0-28-cloud-amd64". */
  version: string;
  /** Relative to the root: "boot/vmlinuz-<version>". */
  vmlinuz: string;
  /** Relative to the root: "lib/modules/<version>" (or "usr/lib/modules/<version>"). */
  modulesDir: string;
}

/** Module tree locations, newest layout last (merged-/usr kernels install under usr/lib). */
const MODULE_DIRS = ['lib/modules', 'usr/lib/modules'];

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Finds boot/vmlinuz-<ver> and its modules dir. With several kernels, pass `version`. */
export async function kernelFiles(extractedRoot: string, version?: string): Promise<KernelFiles> {
  const versions = (await list(join(extractedRoot, 'boot')))
    .filter((n) => n.startsWith('vmlinuz-'))
    .map((n) => n.slice('vmlinuz-'.length))
    .filter((v) => version === undefined || v === version)
    .sort();
  if (versions.length === 0) {
    throw new KernelNotFoundError({ root: extractedRoot, reason: `no boot/vmlinuz-${version ?? '<version>'}` });
  }
  if (versions.length > 1) {
    throw new KernelNotFoundError({ root: extractedRoot, reason: `several kernels (${versions.join(', ')}); pick one with the version argument` });
  }
  const v = versions[0]!;
  for (const d of MODULE_DIRS) {
    const rel = `${d}/${v}`;
    try {
      if ((await stat(join(extractedRoot, rel))).isDirectory()) return { version: v, vmlinuz: `boot/vmlinuz-${v}`, modulesDir: rel };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new KernelNotFoundError({ root: extractedRoot, reason: `boot/vmlinuz-${v} has no ${MODULE_DIRS.map((d) => `${d}/${v}`).join(' or ')}` });
}
