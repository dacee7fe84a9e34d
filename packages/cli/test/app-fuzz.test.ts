// Seeded mutation fuzzing of the readers: whatever the bytes, they either succeed or throw one of
// our coded errors (a one-line message for the user), never a stray RangeError/TypeError (which the
// CLI would print as a BUG). Set MKIMAGE_FUZZ_SEED to replay a failure; the seed is printed.
import t from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectApp } from '../src/app/detect.js';
import { CodedError } from '../src/app/errors.js';
import { classBytes, makeElf, makeZip } from './app-fixtures.js';

const dir = await mkdtemp(join(tmpdir(), 'mkimage-fuzz-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const seed = Number(process.env.MKIMAGE_FUZZ_SEED ?? 20261125);
t.comment(`seed ${seed}`);

/** mulberry32: small, seedable, good enough to pick offsets. */
function rng(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const seeds: [string, Buffer][] = [
  ['jar', makeZip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\nMain-Class: a.B\nMulti-Release: true\n' }, { name: 'a/B.class', data: classBytes(61) }, { name: 'a/C.class', data: classBytes(52), method: 'stored' }])],
  ['zip64 jar', makeZip([{ name: 'META-INF/MANIFEST.MF', data: 'Main-Class: a.B\n' }, { name: 'a/B.class', data: classBytes(61) }], { zip64: true })],
  ['elf', makeElf({ type: 2, interpreter: '/lib64/ld-linux-x86-64.so.2', needed: ['libc.so.6', 'libz.so.1'], runpath: '$ORIGIN', flags1: 0x08000000 })],
  ['/bin/ls head', (await readFile('/bin/ls')).subarray(0, 64 * 1024)],
];

t.test('mutated inputs give a result or a coded error', async (t) => {
  const random = rng(seed);
  let ok = 0;
  let coded = 0;
  for (const [name, original] of seeds) {
    for (let i = 0; i < 150; i++) {
      const bytes = Buffer.from(original);
      const kind = Math.floor(random() * 3);
      if (kind === 0) {
        // Flip a few bytes, biased to the headers where the offsets live.
        for (let k = 0; k < 1 + Math.floor(random() * 4); k++) {
          const at = random() < 0.5 ? Math.floor(random() * Math.min(256, bytes.length)) : Math.floor(random() * bytes.length);
          bytes[at] = Math.floor(random() * 256);
        }
      } else if (kind === 1) {
        // Set a 32-bit field to an extreme.
        const at = Math.floor(random() * (bytes.length - 4));
        bytes.writeUInt32LE([0, 0xffffffff, 0x7fffffff, bytes.length, 0x10000][Math.floor(random() * 5)]!, at);
      }
      const input = kind === 2 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
      const p = join(dir, `${name.replace(/\W/g, '')}-${i}`);
      await writeFile(p, input);
      try {
        await detectApp(p);
        ok++;
      } catch (err) {
        if (err instanceof CodedError && err.code.startsWith('E_') && !err.message.includes('\n')) coded++;
        else {
          t.fail(`${name} #${i} (seed ${seed}): ${(err as Error).stack}`);
          await writeFile(join(tmpdir(), `mkimage-fuzz-fail-${seed}-${name.replace(/\W/g, '')}-${i}`), input);
        }
      }
    }
  }
  t.comment(`${ok} accepted, ${coded} coded errors`);
  t.ok(coded > 0 && ok > 0, 'both outcomes occur (the mutations are neither all harmless nor all fatal)');
});
