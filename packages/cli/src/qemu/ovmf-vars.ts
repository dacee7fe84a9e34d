// OVMF writes its variable store: each run gets its own copy of the template, never the original.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ovmf } from './find.js';

/** Copies the OVMF vars template to a fresh temp dir; `cleanup` removes it. */
export async function copyOvmfVars(ovmf: Extract<Ovmf, { kind: 'pflash' }>, dir?: string): Promise<{ path: string; cleanup(): Promise<void> }> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'mkimage-ovmf-')));
  const path = join(d, 'OVMF_VARS.fd');
  await copyFile(ovmf.varsTemplate, path);
  return { path, cleanup: () => (dir ? rm(path, { force: true }) : rm(d, { recursive: true, force: true })) };
}
