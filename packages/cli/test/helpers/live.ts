// Shared setup for tests that need the real Debian archive (from --mirror / MKIMAGE_DEBIAN_MIRROR /
// the host's apt sources) and QEMU: they build real images and boot them.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findMirrors, openArchive } from '@mkimage/kernel-fetch';
import { build } from '../../src/build/build.js';
import { findQemu, qemuArgs, runToExit, type RunResult } from '../../src/qemu/index.js';

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

/**
 * A test guest whose app is Debian's static busybox run as root with `sh -c script`: built as an
 * initramfs into `dir`, booted on the pc machine without network (`extra` adds QEMU arguments),
 * run until it exits.
 */
export async function runBusyboxGuest(dir: string, script: string, opts: { cpus?: number; extra?: string[] } = {}): Promise<RunResult> {
  const archive = await openArchive({ suite: 'bookworm' });
  const [busybox] = await archive.resolve(['busybox-static']);
  const app = join(await archive.unpack(busybox!), 'bin/busybox');
  const out = join(dir, 'guest');
  await build({ app, output: out, format: 'initramfs', user: 'root', appArgs: ['sh', '-c', script], lockFile: join(dir, 'mkimage.lock') });
  return runToExit({
    args: qemuArgs({
      machine: 'pc', memoryMiB: 256, cpus: opts.cpus ?? 1, net: false,
      kernel: { kernel: join(out, 'vmlinuz'), initrd: join(out, 'initrd.img'), append: readFileSync(join(out, 'cmdline'), 'utf8').trim() },
      ...(opts.extra ? { extra: opts.extra } : {}),
    }),
    timeoutMs: 120_000, retries: 2,
  });
}
