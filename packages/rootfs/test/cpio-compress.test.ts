// Compression of the cpio stream, checked with gzip/zcat and GNU cpio (tools we did not write).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as zlib from 'node:zlib';
import { compressInitramfs, gzipParallel, hasZstd } from '../src/compress/index.js';
import { crc32, crc32Portable } from '../src/compress/crc32.js';
import { cpioStream } from '../src/cpio/index.js';
import { randomTree, seededRandom } from './helpers/random-tree.js';
import { collect, listWithGnuCpio, sha } from './helpers/cpio-tools.js';

function tool(cmd: string, args: string[], input: Uint8Array): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Deterministic text-like data (compresses about like program text). */
function words(bytes: number, seed: number): Buffer {
  const r = seededRandom(seed);
  const vocab = Array.from({ length: 2000 }, () => Buffer.from(r.bytes(r.int(2, 9))).toString('hex').slice(0, r.int(2, 12)));
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    const w = r.pick(vocab) + (r.bool(0.1) ? '\n' : ' ');
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

async function* chunked(buf: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let off = 0;
  for (let i = 0; off < buf.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield buf.subarray(off, off + n);
    off += n;
  }
}

t.test('gzip: one valid member that zcat | cpio -it lists completely', async (t) => {
  const tree = randomTree(7, { count: 200, maxFileSize: 200_000 });
  const cpio = await collect(cpioStream(tree));
  const gz = await collect(compressInitramfs(cpioStream(tree), 'gzip', { blockSize: 64 * 1024 }));
  t.ok(cpio.length > 8 * 64 * 1024, `several blocks (${cpio.length} bytes)`);
  t.equal(tool('gzip', ['-t'], gz).status, 0, 'gzip -t accepts it');
  const z = tool('zcat', [], gz);
  t.equal(z.status, 0, z.stderr);
  t.equal(sha(z.stdout), sha(cpio), 'zcat gives back the exact cpio bytes');
  t.equal(listWithGnuCpio(z.stdout).length, tree.size, 'cpio -it lists every entry');
  t.equal(sha(zlib.gunzipSync(gz)), sha(cpio), 'node zlib agrees');
  // A flipped byte in the middle must be caught (CRC or stream error).
  const bad = Buffer.from(gz);
  bad[Math.floor(bad.length / 2)] ^= 0x55;
  t.not(tool('gzip', ['-t'], bad).status, 0, 'gzip -t rejects a corrupted copy');
  const badTail = Buffer.from(gz);
  badTail[badTail.length - 6] ^= 1; // inside the CRC32
  t.not(tool('gzip', ['-t'], badTail).status, 0, 'gzip -t rejects a wrong CRC');
});

t.test('gzip: bytes independent of concurrency and input chunking', async (t) => {
  const data = words(600_000, 3);
  const outs = await Promise.all([
    collect(gzipParallel(chunked(data, [data.length]), { blockSize: 65536, concurrency: 1 })),
    collect(gzipParallel(chunked(data, [1, 7, 4096, 100_000]), { blockSize: 65536, concurrency: 4 })),
    collect(gzipParallel(chunked(data, [65536]), { blockSize: 65536, concurrency: 2 })),
  ]);
  t.equal(new Set(outs.map(sha)).size, 1, 'identical output');
  const other = await collect(gzipParallel(chunked(data, [data.length]), { blockSize: 131072 }));
  t.not(sha(other), sha(outs[0]!), 'the block size is part of the format (documented)');
  t.equal(sha(zlib.gunzipSync(other)), sha(data));
  t.same([...outs[0]!.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3], 'header: deflate, no flags, mtime 0, OS unix');
});

t.test('gzip: size within 1% of gzip -6 on the same bytes', async (t) => {
  const data = Buffer.concat([words(3_000_000, 11), Buffer.from(seededRandom(5).bytes(500_000))]);
  const ours = await collect(gzipParallel(chunked(data, [1 << 20])));
  const ref = tool('gzip', ['-6', '-n', '-c'], data);
  t.equal(ref.status, 0);
  const ratio = ours.length / ref.stdout.length;
  t.comment(`ours ${ours.length} vs gzip -6 ${ref.stdout.length}: ratio ${ratio.toFixed(4)}`);
  t.ok(ratio <= 1.01, `ratio ${ratio}`);
  t.equal(sha(zlib.gunzipSync(ours)), sha(data));
});

t.test('gzip: edge cases', async (t) => {
  const empty = await collect(gzipParallel(chunked(Buffer.alloc(0), [1])));
  t.equal(tool('gzip', ['-t'], empty).status, 0, 'empty input -> valid empty gzip');
  t.equal(zlib.gunzipSync(empty).length, 0);
  const exact = Buffer.from(seededRandom(9).bytes(131072));
  const g = await collect(gzipParallel(chunked(exact, [1000]), { blockSize: 65536 }));
  t.equal(sha(zlib.gunzipSync(g)), sha(exact), 'input an exact multiple of the block size');
  for (const n of [0, 1, 1000, 65537]) {
    const b = Buffer.from(seededRandom(n).bytes(n));
    t.equal(crc32Portable(b, 0), crc32(b), `portable CRC-32 matches zlib for ${n} bytes`);
  }
  t.equal(crc32Portable(Buffer.from('123456789'), 0), 0xcbf43926, 'CRC-32 check value');
});

t.test('none and zstd', async (t) => {
  const tree = randomTree(8, { count: 20 });
  const raw = await collect(cpioStream(tree));
  t.equal(sha(await collect(compressInitramfs(cpioStream(tree), 'none'))), sha(raw), 'none passes the bytes through');
  if (hasZstd) {
    const z = await collect(compressInitramfs(cpioStream(tree), 'zstd'));
    const d = tool('zstd', ['-dc'], z);
    t.equal(d.status, 0, d.stderr);
    t.equal(sha(d.stdout), sha(raw));
  } else {
    t.throws(() => compressInitramfs(cpioStream(tree), 'zstd'), {
      code: 'E_COMPRESS_UNSUPPORTED', message: /^zstd compression needs Node >= 22\.15 \(this is v[\d.]+\); use --compress gzip$/,
    });
  }
  t.throws(() => compressInitramfs(cpioStream(tree), 'gzip', { level: 13 }), { code: 'E_COMPRESS_OPTION', message: /gzip level 13 is not valid; use 0-12/ });
  t.throws(() => compressInitramfs(cpioStream(tree), 'xz' as never), { code: 'E_COMPRESS_OPTION', message: /unknown compression "xz"; use one of none, gzip, zstd/ });
  const lvl9 = await collect(compressInitramfs(cpioStream(tree), 'gzip', { level: 9 }));
  t.equal(lvl9[8], 2, 'XFL = 2 at level 9');
  t.equal(sha(zlib.gunzipSync(lvl9)), sha(raw));
});

t.test('zstd plumbing (Node >= 22.15 path) with a stand-in compressor stream', async (t) => {
  // Node 20 has no zlib.createZstdCompress; stand in gzip's stream (same Transform interface) to
  // exercise the feeding, backpressure and error paths the real one goes through.
  let params: Record<number, number> | undefined;
  const fakeZlib = {
    ...zlib,
    constants: { ...zlib.constants, ZSTD_c_compressionLevel: 100 },
    createZstdCompress: (o: { params: Record<number, number> }) => { params = o.params; return zlib.createGzip({ level: 1 }); },
  };
  const mod = await t.mockImport<typeof import('../src/compress/index.js')>('../src/compress/index.js', { 'node:zlib': fakeZlib });
  t.equal(mod.hasZstd, true);
  const data = Buffer.from(seededRandom(4).bytes(3_000_000));
  const out = await collect(mod.compressInitramfs(chunked(data, [100_000]), 'zstd', { level: 7 }));
  t.same(params, { 100: 7 }, 'the level reaches ZSTD_c_compressionLevel');
  t.equal(sha(zlib.gunzipSync(out)), sha(data), 'every input byte went through, in order');
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('abc');
    throw Object.assign(new Error('source broke'), { code: 'E_TEST' });
  }
  await t.rejects(collect(mod.compressInitramfs(failing(), 'zstd')), { code: 'E_TEST' }, 'a source error surfaces');
  t.throws(() => mod.compressInitramfs(failing(), 'zstd', { level: 20 }), { code: 'E_COMPRESS_OPTION', message: /zstd level 20 is not valid; use 1-19/ });
});
