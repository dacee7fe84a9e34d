// The write queue's whole-file write: one writev, and after a short writev the rest in order from
// where it stopped (a fake handle that writes only part of what it is given).
import t from 'tap';
import type { FileHandle } from 'node:fs/promises';
import { writeAll } from '../src/deb/write-queue.js';

function fakeHandle(maxPerCall: number): { h: FileHandle; out: number[]; calls: string[] } {
  const out: number[] = [];
  const calls: string[] = [];
  const take = (bytes: Uint8Array): number => {
    const n = Math.min(maxPerCall, bytes.length);
    out.push(...bytes.subarray(0, n));
    return n;
  };
  const h = {
    writev: async (chunks: Uint8Array[]) => {
      calls.push('writev');
      return { bytesWritten: take(Buffer.concat(chunks)) };
    },
    write: async (b: Uint8Array, off = 0) => {
      calls.push('write');
      return { bytesWritten: take(b.subarray(off)) };
    },
  } as unknown as FileHandle;
  return { h, out, calls };
}

t.test('writeAll: the bytes in order, whatever each call takes', async (t) => {
  const chunks = [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5), Uint8Array.of(6, 7, 8, 9)];
  const all = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  for (const max of [100, 4, 3, 1]) {
    const { h, out, calls } = fakeHandle(max);
    await writeAll(h, chunks, 9);
    t.same(out, all, `at most ${max} bytes per call`);
    t.equal(calls[0], 'writev', 'starts with one writev');
    if (max >= 9) t.same(calls, ['writev'], 'one call when it takes everything');
  }
  const one = fakeHandle(2);
  await writeAll(one.h, [Uint8Array.of(1, 2, 3, 4, 5)], 5);
  t.same(one.out, [1, 2, 3, 4, 5], 'a single chunk is written with write()');
  t.notOk(one.calls.includes('writev'));
});
