import t from 'tap';
import { PassThrough } from 'node:stream';
import { readFileSync, readdirSync, statSync, mkdirSync, chmodSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { collect, zeros, fromOffsetChunks } from '../src/chunks.js';
import { HASH_ON_WORKER_FROM, writeImage } from '../src/output.js';
import { inlineHash, workerHash } from '../src/hash-worker.js';
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

/** Seeded pseudo-random chunks of varied sizes (some over the worker ring's 1 MiB slots), with zero runs between. */
async function* mixed(seed: number): AsyncGenerator<Uint8Array> {
  let x = seed >>> 0;
  const next = (): number => { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; return x; };
  for (let i = 0; i < 40; i++) {
    const n = next() % (3 << 20);
    const b = Buffer.alloc(n);
    for (let k = 0; k < n; k += 4096) b[k] = next() & 0xff;
    yield b;
    if (i % 3 === 0) yield* zeros(next() % (2 << 20));
  }
}

t.test('the digest on a worker thread equals sha256sum of the file, and the inline one', async (t) => {
  const dir = tempDir(t);
  const onWorker = join(dir, 'worker.img');
  const inline = join(dir, 'inline.img');
  const a = await writeImage(onWorker, mixed(7), { expectedBytes: HASH_ON_WORKER_FROM });
  const b = await writeImage(inline, mixed(7));
  t.equal(a.sha256, execFileSync('sha256sum', [onWorker], { encoding: 'utf8' }).split(' ')[0], 'worker digest = sha256sum');
  t.equal(b.sha256, a.sha256, 'inline digest is the same');
  t.ok(a.bytes > 40 << 20, `${a.bytes} bytes went through the ring several times over`);
  // The ring's slots are reused: a chunk is copied before update() returns, so reusing it is safe.
  const reused = Buffer.alloc(1 << 20);
  const w = workerHash();
  const i = inlineHash();
  for (let k = 0; k < 16; k++) {
    reused.fill(k);
    await w.update(reused);
    await i.update(reused);
  }
  t.equal(await w.digest(), await i.digest(), 'a caller reusing one buffer gets the right digest');
  const stopped = workerHash();
  await stopped.update(Buffer.from('x'));
  stopped.abandon();
  t.same(readdirSync(dir).sort(), ['inline.img', 'worker.img']);
});

t.test('the hash worker runs in a process started with --input-type=module (workers do not inherit it)', async (t) => {
  const mod = new URL('../dist/hash-worker.js', import.meta.url).href;
  const script = `const { workerHash } = await import(${JSON.stringify(mod)});
const h = workerHash();
await h.update(Buffer.from('abc'));
console.log(await h.digest());`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  t.equal(r.stderr, '', 'no error');
  t.equal(r.stdout.trim(), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'SHA-256 of "abc" (FIPS 180-2 example)');
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
  await t.rejects(writeImage(join(dir, 'z.img'), broken(), { expectedBytes: HASH_ON_WORKER_FROM }), { code: 'E_SOURCE' }, 'also with the hash on a worker');
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
