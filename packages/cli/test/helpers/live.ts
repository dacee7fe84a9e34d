// Shared setup for tests that need the real Debian archive (from --mirror / MKIMAGE_DEBIAN_MIRROR /
// the host's apt sources) and QEMU: they build real images and boot them.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findMirrors } from '@mkimage/kernel-fetch';
import { findQemu } from '../../src/qemu/index.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..', '..', '..');

/** Why live tests cannot run here, or undefined when they can. */
export async function liveSkipReason(): Promise<string | undefined> {
  try {
    findMirrors({ suite: 'bookworm' });
  } catch (err) {
    return `no Debian mirror configured (${(err as Error).message})`;
  }
  try {
    await findQemu();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/** Builds the sample app's JAR with Debian's JDK (cached between runs) and returns its path. */
export async function helloJar(): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, 'fixtures', 'hello', 'build.mjs')], { maxBuffer: 1 << 20 });
  return stdout.trim().split('\n').pop()!;
}

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** GET on the forwarded port; the body as text. */
export async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}
