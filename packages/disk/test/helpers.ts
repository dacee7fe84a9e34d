// Test helpers: temp dirs, running the independent tools, writing a stream to a file.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

export function tempDir(t: { teardown: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'mkimage-disk-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Runs a tool; returns status and combined output (never throws on a non-zero exit). */
export function run(cmd: string, args: string[], input?: Uint8Array): { status: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} could not run (${r.error.message}); install it (see packages/disk/README.md)`);
  return { status: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export function runOk(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export async function* fromBytes(b: Uint8Array, chunk = 65536): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += chunk) yield b.subarray(i, i + chunk);
}
