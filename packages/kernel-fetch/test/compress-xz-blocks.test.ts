// Block-parallel xz decoding: the Index and Block Header plan against `xz --robot -lvv`, parallel
// output equal to `xz -dc`'s for random inputs, block sizes and check types with any thread count and
// a tiny flow-control cap, and damaged input that must not pass: a truncated block, an Index record
// with the wrong sizes, a corrupt block (the Check is verified with `check: true`; without it, only a
// damaged Check field goes unnoticed, by design), a damaged Index or footer, several streams.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import t from 'tap';
import { decodeBlockHeader, decodeVarint, encodeVarint, planXzStream, type XzPlan } from '../src/compress/xz-index.js';
import { idleXzWorkers, planXzFileRegion, xzDecompressFile } from '../src/compress/xz-parallel.js';

const words = Array.from({ length: 400 }, () => randomBytes(5).toString('hex'));
const text = Buffer.from(Array.from({ length: 80000 }, (_, i) => words[(i * 7919) % words.length]).join(' '));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const xz = (args: string[], input: Uint8Array): Buffer => execFileSync('xz', args, { input, maxBuffer: 1 << 28 });

async function plan(bytes: Uint8Array): Promise<XzPlan | undefined> {
  return planXzStream(bytes.length, async (at, n) => bytes.subarray(at, at + n));
}

async function decodeFile(path: string, offset: number, length: number, opts = {}, edit?: (p: XzPlan) => XzPlan): Promise<Buffer> {
  let p = await planXzFileRegion(path, offset, length);
  if (!p) throw new Error('no plan');
  if (edit) p = edit(p);
  const parts: Uint8Array[] = [];
  for await (const c of xzDecompressFile(path, offset, p, 'test.xz', opts)) parts.push(c);
  return Buffer.concat(parts);
}

async function decodeError(path: string, length: number, opts = {}, edit?: (p: XzPlan) => XzPlan): Promise<(Error & { code?: string }) | undefined> {
  return decodeFile(path, 0, length, opts, edit).then(
    () => undefined,
    (e: Error & { code?: string }) => e,
  );
}

t.test('varints round-trip (xz spec §1.2)', async (t) => {
  for (const n of [0, 1, 127, 128, 300, 2 ** 32 + 5, 2 ** 50]) t.same(decodeVarint(Uint8Array.from(encodeVarint(n)), 0), [n, encodeVarint(n).length], `${n}`);
  t.equal(decodeVarint(Uint8Array.of(0x80, 0x00), 0), undefined, 'a trailing zero byte is not minimal: rejected');
});

t.test('the plan agrees with xz --robot -lvv (offsets, sizes, Block Header size, LZMA2 props)', async (t) => {
  const bytes = xz(['-6', '-T2', '--block-size=150000', '--check=crc64', '-c'], text);
  const dir = t.testdir({ 'in.xz': bytes });
  const listed = execFileSync('xz', ['--robot', '-lvv', join(dir, 'in.xz')]).toString().split('\n').filter((l) => l.startsWith('block\t'));
  const p = await plan(bytes);
  t.ok(p, 'planned');
  t.ok(listed.length >= 3, `several blocks (${listed.length})`);
  t.equal(p!.checkId, 4, 'CRC64');
  t.equal(p!.checkSize, 8, 'CRC64 is 8 bytes');
  // block <stream> <in stream> <in file> <comp offset> <uncomp offset> <total size> <uncomp size> <ratio> <check> <value> <header size> <flags> <compressed size> ...
  t.same(
    p!.blocks.map((b) => [b.offset, b.size, b.uncompressedSize, b.headerSize, b.unpaddedSize - b.headerSize - p!.checkSize]),
    listed.map((l) => l.split('\t')).map((f) => [Number(f[4]), Number(f[6]), Number(f[7]), Number(f[11]), Number(f[13])]),
    'offsets and sizes',
  );
  // -6: 8 MiB dictionary, LZMA2 props byte 22 (2 << (22 / 2 + 11) = 8 MiB, xz spec §5.3.1).
  t.same([...new Set(p!.blocks.map((b) => b.lzma2Props))], [22], 'LZMA2 dictionary byte');
  t.equal(p!.blocks.reduce((n, b) => n + b.uncompressedSize, 0), text.length, 'blocks cover the input');
  // The pairing: a header with a second filter (BCJ) or a bad CRC32 is not taken for an LZMA2-only block.
  const h = bytes.subarray(p!.blocks[0]!.offset, p!.blocks[0]!.offset + p!.blocks[0]!.headerSize);
  t.equal(decodeBlockHeader(h)?.headerSize, h.length, 'header decodes');
  const bad = Buffer.from(h);
  bad[2]! ^= 1;
  t.equal(decodeBlockHeader(bad), undefined, 'damaged header (CRC32) rejected');
  const x86 = xz(['--x86', '--lzma2', '-T2', '--block-size=100000', '-c'], text);
  t.equal(await plan(x86), undefined, 'BCJ + LZMA2 chain: not planned (sequential path)');
});

t.test('random inputs, block sizes and checks: parallel output equals xz -dc, the same on every run', async (t) => {
  const dir = t.testdir({});
  const seedText = Buffer.concat([text.subarray(0, 200000), randomBytes(150000), text.subarray(200000, 400000), Buffer.alloc(100000, 7)]);
  const cases: Array<[string[], number]> = [
    [['--check=crc64', '--block-size=65536'], 1],
    [['--check=crc32', '--block-size=123457', '-1'], 2],
    [['--check=sha256', '--block-size=300000', '-9e'], 2],
    [['--check=none', '--block-size=40000'], 3],
    // Dictionaries far smaller than a block: the decoder's circular dictionary wraps many times.
    [['--check=crc64', '--block-size=400000', '--lzma2=dict=4KiB'], 2],
    [['--check=crc32', '--block-size=600000', '--lzma2=dict=64KiB,nice=273,mf=bt4'], 2],
  ];
  for (const [args, threads] of cases) {
    const bytes = xz(['-T2', ...args, '-c'], seedText);
    const file = join(dir, 'in.xz');
    writeFileSync(file, bytes);
    const want = sha(execFileSync('xz', ['-dc', file], { maxBuffer: 1 << 28 }));
    t.equal(want, sha(seedText), `${args.join(' ')}: xz -dc round trip`);
    const a = await decodeFile(file, 0, bytes.length, { threads });
    const b = await decodeFile(file, 0, bytes.length, { threads, check: true, cap: 1 });
    t.equal(sha(a), want, `${args.join(' ')}: equals xz -dc (${threads} threads)`);
    t.equal(sha(b), want, `${args.join(' ')}: with checks, tiny cap`);
  }
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
  const err = await decodeFile(join(dir, 'bad.xz'), 0, bad.length, { threads: 2, check: true }).then(
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
  // With the Check verified, any change to the data is caught.
  const err = await decodeError(file, bad.length, { check: true });
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

t.test('without check: sizes are still enforced; only a damaged Check field passes (the data is right)', async (t) => {
  const bytes = xz(['-T2', '--block-size=100000', '--check=crc64', '-c'], text);
  const p = (await plan(bytes))!;
  const dir = t.testdir({ 'ok.xz': bytes });
  const ok = join(dir, 'ok.xz');
  const editBlock = (i: number, f: (b: XzPlan['blocks'][number]) => Partial<XzPlan['blocks'][number]>) => (q: XzPlan): XzPlan => ({
    ...q,
    blocks: q.blocks.map((b, j) => (j === i ? { ...b, ...f(b) } : b)),
  });
  const cases: Array<[string, (q: XzPlan) => XzPlan, RegExp]> = [
    ['uncompressed size too large', editBlock(1, (b) => ({ uncompressedSize: b.uncompressedSize + 1 })), /block decodes to \d+ bytes, its Index record says/],
    ['uncompressed size too small', editBlock(1, (b) => ({ uncompressedSize: b.uncompressedSize - 1 })), /block decodes to more than the \d+ bytes/],
    ['block truncated (Compressed Data cut short)', editBlock(2, (b) => ({ unpaddedSize: b.unpaddedSize - 5 })), /does not end within the block's \d+ compressed bytes \(truncated\)/],
    ['block longer than its data', editBlock(0, (b) => ({ unpaddedSize: b.unpaddedSize + 4, size: b.size + 4 })), /LZMA2 data ends after \d+ of the block's \d+ compressed bytes/],
  ];
  for (const [name, edit, reason] of cases) {
    const err = await decodeError(ok, bytes.length, { threads: 2 }, edit);
    t.equal(err?.code, 'E_DECOMPRESS', name);
    t.match(err?.message ?? '', reason, err?.message);
  }
  // The same through the file's own bytes: a stream whose Block Headers carry no sizes (xz without -T),
  // its Index rewritten (valid CRC32) to claim one byte more for block 2. The plan trusts the Index;
  // decoding must not. xz itself rejects the file as well.
  const plain = xz(['--block-size=100000', '--check=crc64', '-c'], text);
  const pp = (await plan(plain))!;
  t.equal(decodeBlockHeader(plain.subarray(pp.blocks[1]!.offset))?.uncompressedSize, undefined, 'fixture: no sizes in the Block Headers');
  const indexSize = (plain.readUInt32LE(plain.length - 8) + 1) * 4; // Stream Footer Backward Size
  const indexAt = plain.length - 12 - indexSize;
  const fields = [0, ...encodeVarint(pp.blocks.length), ...pp.blocks.flatMap((b, i) => [...encodeVarint(b.unpaddedSize), ...encodeVarint(b.uncompressedSize + (i === 1 ? 1 : 0))])];
  const index = Buffer.alloc(indexSize);
  index.set(fields);
  t.equal(Math.ceil(fields.length / 4) * 4 + 4, indexSize, 'rewritten Index keeps its size');
  index.writeUInt32LE(crc32(index.subarray(0, indexSize - 4)), indexSize - 4);
  const lyingIndex = Buffer.concat([plain.subarray(0, indexAt), index, plain.subarray(indexAt + indexSize)]);
  writeFileSync(join(dir, 'index.xz'), lyingIndex);
  t.ok(await plan(lyingIndex), 'planned (the Index is well-formed)');
  t.match((await decodeError(join(dir, 'index.xz'), lyingIndex.length))?.message ?? '', /in block 2 of/, 'wrong Index record rejected, naming the block');
  t.throws(() => execFileSync('xz', ['-t', join(dir, 'index.xz')], { stdio: 'pipe' }), 'xz -t rejects it too');
  // Truncated LZMA2 data inside an intact container: the file cut inside block 3, its Index kept.
  const b2 = p.blocks[2]!;
  const cut = Buffer.concat([bytes.subarray(0, b2.offset + b2.headerSize + 10), Buffer.alloc(b2.size - b2.headerSize - 10), bytes.subarray(b2.offset + b2.size)]);
  writeFileSync(join(dir, 'cut.xz'), cut);
  t.equal((await decodeError(join(dir, 'cut.xz'), cut.length))?.code, 'E_DECOMPRESS', 'zeroed block data rejected without the Check');
  // The Check field itself is not read without `check`: the data decodes right; with `check` it is refused.
  const badCheck = Buffer.from(bytes);
  badCheck[b2.offset + b2.unpaddedSize - 1]! ^= 0xff;
  writeFileSync(join(dir, 'check.xz'), badCheck);
  t.equal(sha(await decodeFile(join(dir, 'check.xz'), 0, badCheck.length)), sha(text), 'damaged CRC64 field: skipped by default');
  t.match((await decodeError(join(dir, 'check.xz'), badCheck.length, { check: true }))?.message ?? '', /integrity check mismatch, in block 3 of/, 'and caught with check: true');
  const badPad = Buffer.from(bytes);
  const padded = p.blocks.findIndex((b) => b.size > b.unpaddedSize);
  if (padded >= 0) {
    const b = p.blocks[padded]!;
    badPad[b.offset + b.unpaddedSize - p.checkSize]! = 1; // first Block Padding byte (padding precedes the Check)
    writeFileSync(join(dir, 'pad.xz'), badPad);
    t.match((await decodeError(join(dir, 'pad.xz'), badPad.length))?.message ?? '', /Block Padding is not zeros/, 'non-zero Block Padding rejected');
  }
});
