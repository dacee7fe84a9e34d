// Block-parallel xz decoding: the Index-derived plan against `xz --robot -lv`, one-block streams
// accepted by the xz CLI, parallel output equal to the input with any thread count and a tiny
// flow-control cap, and damaged input (block, Index, footer, several streams) that must not pass.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { blockStreamSuffix, decodeVarint, encodeVarint, planXzStream, type XzPlan } from '../src/compress/xz-index.js';
import { idleXzWorkers, planXzFileRegion, xzDecompressFile } from '../src/compress/xz-parallel.js';

const words = Array.from({ length: 400 }, () => randomBytes(5).toString('hex'));
const text = Buffer.from(Array.from({ length: 80000 }, (_, i) => words[(i * 7919) % words.length]).join(' '));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const xz = (args: string[], input: Uint8Array): Buffer => execFileSync('xz', args, { input, maxBuffer: 1 << 28 });

async function plan(bytes: Uint8Array): Promise<XzPlan | undefined> {
  return planXzStream(bytes.length, async (at, n) => bytes.subarray(at, at + n));
}

async function decodeFile(path: string, offset: number, length: number, opts = {}): Promise<Buffer> {
  const p = await planXzFileRegion(path, offset, length);
  if (!p) throw new Error('no plan');
  const parts: Uint8Array[] = [];
  for await (const c of xzDecompressFile(path, offset, p, 'test.xz', opts)) parts.push(c);
  return Buffer.concat(parts);
}

t.test('varints round-trip (xz spec §1.2)', async (t) => {
  for (const n of [0, 1, 127, 128, 300, 2 ** 32 + 5, 2 ** 50]) t.same(decodeVarint(Uint8Array.from(encodeVarint(n)), 0), [n, encodeVarint(n).length], `${n}`);
  t.equal(decodeVarint(Uint8Array.of(0x80, 0x00), 0), undefined, 'a trailing zero byte is not minimal: rejected');
});

t.test('the plan agrees with xz --robot -lv, and each block alone is a stream xz accepts', async (t) => {
  const bytes = xz(['-6', '-T2', '--block-size=150000', '--check=crc64', '-c'], text);
  const dir = t.testdir({ 'in.xz': bytes });
  const listed = execFileSync('xz', ['--robot', '-lv', join(dir, 'in.xz')]).toString().split('\n').filter((l) => l.startsWith('block\t'));
  const p = await plan(bytes);
  t.ok(p, 'planned');
  t.ok(listed.length >= 3, `several blocks (${listed.length})`);
  // block <stream> <in stream> <in file> <comp offset> <uncomp offset> <total size> <uncomp size> ...
  t.same(
    p!.blocks.map((b) => [b.offset, b.size, b.uncompressedSize]),
    listed.map((l) => l.split('\t')).map((f) => [Number(f[4]), Number(f[6]), Number(f[7])]),
    'offsets and sizes',
  );
  let out = 0;
  for (const [i, b] of p!.blocks.entries()) {
    const one = Buffer.concat([p!.header, bytes.subarray(b.offset, b.offset + b.size), blockStreamSuffix(p!, b)]);
    writeFileSync(join(dir, `b${i}.xz`), one);
    const dec = execFileSync('xz', ['-dc', join(dir, `b${i}.xz`)]);
    t.equal(sha(dec), sha(text.subarray(out, out + b.uncompressedSize)), `block ${i + 1} decodes alone with xz -dc`);
    out += b.uncompressedSize;
  }
  t.equal(out, text.length, 'blocks cover the input');
  // The pairing: a wrong Index record in the suffix is caught by xz.
  const b0 = p!.blocks[0]!;
  const lying = Buffer.concat([p!.header, bytes.subarray(b0.offset, b0.offset + b0.size), blockStreamSuffix(p!, { ...b0, uncompressedSize: b0.uncompressedSize + 1 })]);
  writeFileSync(join(dir, 'lying.xz'), lying);
  t.throws(() => execFileSync('xz', ['-t', join(dir, 'lying.xz')], { stdio: 'pipe' }), 'xz rejects a block whose Index record lies');
});

t.test('parallel decoding equals the input for any thread count, cap and region offset', async (t) => {
  const bytes = xz(['-6', '-T2', '--block-size=100000', '-c'], text);
  const pad = randomBytes(333);
  const dir = t.testdir({});
  const file = join(dir, 'in.bin');
  writeFileSync(file, Buffer.concat([pad, bytes, pad])); // the stream sits inside a bigger file, like a .deb member
  for (const opts of [{ threads: 1 }, { threads: 2 }, { threads: 3, cap: 1 }, {}]) {
    t.equal(sha(await decodeFile(file, pad.length, bytes.length, opts)), sha(text), JSON.stringify(opts));
  }
  // One-block stream (xz without -T) and stream padding are planned too.
  const single = Buffer.concat([xz(['-c'], text), Buffer.alloc(8)]);
  writeFileSync(file, single);
  t.equal((await plan(single))?.blocks.length, 1, 'single block, padding skipped');
  t.equal(sha(await decodeFile(file, 0, single.length)), sha(text), 'single block with stream padding');
});

t.test('stopping early ends the workers', async (t) => {
  const bytes = xz(['-T2', '--block-size=50000', '-c'], text);
  const dir = t.testdir({ 'in.xz': bytes });
  const file = join(dir, 'in.xz');
  const p = (await planXzFileRegion(file, 0, bytes.length))!;
  let got = 0;
  for await (const c of xzDecompressFile(file, 0, p, 'test.xz', { threads: 2, cap: 1 })) {
    got += c.length;
    break;
  }
  t.ok(got > 0 && got < text.length, 'read part of it, then returned without hanging');
});

t.test('workers serve the next decoding (another file) once done; after an early stop or a damaged block too', async (t) => {
  const other = Buffer.from(text.toString('latin1').split('').reverse().join(''), 'latin1');
  const a = xz(['-T2', '--block-size=60000', '-c'], text);
  const b = xz(['-T2', '--block-size=60000', '-c'], other);
  const dir = t.testdir({ 'a.xz': a, 'b.xz': b });
  const bad = Buffer.from(b);
  const p = (await plan(b))!;
  bad[p.blocks[2]!.offset + 100]! ^= 0x08;
  writeFileSync(join(dir, 'bad.xz'), bad);
  t.equal(sha(await decodeFile(join(dir, 'a.xz'), 0, a.length, { threads: 2 })), sha(text), 'first file');
  const waiting = idleXzWorkers(); // earlier tests may have left some too
  t.ok(waiting >= 2, 'both workers wait for more');
  t.equal(sha(await decodeFile(join(dir, 'b.xz'), 0, b.length, { threads: 2 })), sha(other), 'second file, same workers');
  t.equal(idleXzWorkers(), waiting, 'reused, not added to');
  const pa = (await planXzFileRegion(join(dir, 'a.xz'), 0, a.length))!;
  for await (const _ of xzDecompressFile(join(dir, 'a.xz'), 0, pa, 'a.xz', { threads: 2, cap: 1 })) break;
  t.ok(idleXzWorkers() < waiting, 'a worker stopped mid-job is not kept');
  const err = await decodeFile(join(dir, 'bad.xz'), 0, bad.length, { threads: 2 }).then(
    () => undefined,
    (e: Error & { code?: string }) => e,
  );
  t.equal(err?.code, 'E_DECOMPRESS', 'damaged block still reported');
  t.equal(sha(await decodeFile(join(dir, 'b.xz'), 0, b.length, { threads: 2 })), sha(other), 'and the next decoding is right');
});

t.test('works in a process started with --input-type=module (workers do not inherit it)', async (t) => {
  const bytes = xz(['-T2', '--block-size=60000', '-c'], text);
  const dir = t.testdir({ 'in.xz': bytes });
  const mod = new URL('../dist/compress/xz-parallel.js', import.meta.url).href;
  const script = `const { planXzFileRegion, xzDecompressFile } = await import(${JSON.stringify(mod)});
const p = await planXzFileRegion('in.xz', 0, ${bytes.length});
let n = 0;
for await (const c of xzDecompressFile('in.xz', 0, p, 'in.xz', { threads: 2 })) n += c.length;
console.log(n);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
  t.equal(r.stderr, '', 'no error');
  t.equal(r.stdout.trim(), String(text.length), 'decoded in full');
});

t.test('damage: corrupt block fails naming the block; broken Index, footer or several streams are not planned', async (t) => {
  const bytes = xz(['-T2', '--block-size=100000', '-c'], text);
  const p = (await plan(bytes))!;
  const dir = t.testdir({});
  const file = join(dir, 'bad.xz');
  const bad = Buffer.from(bytes);
  const b1 = p.blocks[1]!;
  bad[b1.offset + Math.floor(b1.size / 2)]! ^= 0x10;
  writeFileSync(file, bad);
  const err = await decodeFile(file, 0, bad.length).then(
    () => undefined,
    (e: Error & { code?: string }) => e,
  );
  t.equal(err?.code, 'E_DECOMPRESS', 'corrupt block');
  t.match(err?.message ?? '', /^test\.xz: corrupt xz data \(.*in block 2 of \d+, after \d+ input bytes\)/, err?.message);
  t.notOk(err?.message.includes('\n'), 'one line');
  // The same file is rejected by xz itself.
  t.throws(() => execFileSync('xz', ['-t', file], { stdio: 'pipe' }), 'xz -t rejects it too');

  const indexByte = Buffer.from(bytes);
  indexByte[bytes.length - 12 - 6]! ^= 0x01; // inside the Index (its CRC32 no longer matches)
  t.equal(await plan(indexByte), undefined, 'damaged Index: sequential path');
  const footer = Buffer.from(bytes);
  footer[bytes.length - 1] = 0x00; // footer magic
  t.equal(await plan(footer), undefined, 'damaged footer: sequential path');
  t.equal(await plan(Buffer.concat([xz(['-c'], text.subarray(0, 100)), bytes])), undefined, 'two streams: sequential path');
  t.equal(await plan(bytes.subarray(0, bytes.length - 20)), undefined, 'truncated: sequential path');
});
