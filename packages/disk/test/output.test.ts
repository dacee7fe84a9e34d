import t from 'tap';
import { PassThrough } from 'node:stream';
import { readFileSync, readdirSync, statSync, mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { collect, zeros, fromOffsetChunks } from '../src/chunks.js';
import { writeImage } from '../src/output.js';
import { tempDir } from './helpers.js';

async function* sample(): AsyncGenerator<Uint8Array> {
  yield Buffer.from('head');
  yield* zeros(3 << 20); // tagged: skipped
  yield Buffer.alloc(8192 + 100); // untagged zeros: scanned, holes where 4 KiB aligned
  yield Buffer.from('tail');
}

t.test('file output: sparse, exact bytes, mode set explicitly, no temp left', async (t) => {
  const dir = tempDir(t);
  const p = join(dir, 'out.img');
  const old = process.umask(0o077);
  try {
    const r = await writeImage(p, sample());
    t.equal(r.bytes, 4 + (3 << 20) + 8292 + 4);
    t.ok(r.holeBytes >= 3 << 20);
  } finally {
    process.umask(old);
  }
  const b = readFileSync(p);
  t.ok(b.equals(await collect(sample())), 'bytes equal the stream');
  t.equal(statSync(p).mode & 0o777, 0o644, 'umask does not leak into the mode');
  t.ok(statSync(p).blocks * 512 < 1 << 20, 'holes on disk');
  t.same(readdirSync(dir), ['out.img']);
});

t.test("'-' streams every byte (no seeking)", async (t) => {
  const out = new PassThrough();
  const got = collect(out as AsyncIterable<Uint8Array>);
  const r = await writeImage('-', sample(), { stdout: out });
  out.end();
  t.ok((await got).equals(await collect(sample())));
  t.equal(r.holeBytes, 0);
});

t.test('unwritable output and failing input leave nothing behind', async (t) => {
  const dir = tempDir(t);
  await t.rejects(writeImage(join(dir, 'no/such/dir/x.img'), sample()), { code: 'E_OUTPUT', message: /cannot create.*create its directory first/ });
  await t.rejects(writeImage(dir, sample()), { code: 'E_OUTPUT', message: /is a directory/ });
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o500);
  if (process.getuid?.() !== 0) await t.rejects(writeImage(join(ro, 'x.img'), sample()), { code: 'E_OUTPUT' });
  async function* broken(): AsyncGenerator<Uint8Array> { yield Buffer.from('x'); throw Object.assign(new Error('source broke'), { code: 'E_SOURCE' }); }
  await t.rejects(writeImage(join(dir, 'y.img'), broken()), { code: 'E_SOURCE' });
  t.same(readdirSync(dir).sort(), ['ro'], 'no temp file, no partial image');
});

t.test('offset-chunk adapter', async (t) => {
  const b = await collect(fromOffsetChunks((async function* () {
    yield { offset: 0, bytes: Buffer.from('ab') };
    yield { offset: 2, zero: 3 };
    yield { offset: 5, bytes: Buffer.from('c') };
  })()));
  t.same([...b], [97, 98, 0, 0, 0, 99]);
  await t.rejects(collect(fromOffsetChunks((async function* () { yield { offset: 1, bytes: Buffer.from('x') }; })())), { code: 'E_INTERNAL' });
});
