// Decoders against the reference encoders (xz, zstd CLIs; zlib): round trip, multi-block and
// concatenated streams, and corrupt/truncated input that must fail with a one-line error.
import { execFileSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { decompressStream, detectCompression, xzDecompressSync, type CompressionKind } from '../src/compress/index.js';

function encode(cmd: string, args: string[], input: Uint8Array): Buffer {
  return execFileSync(cmd, args, { input, maxBuffer: 1 << 28 });
}

async function decode(kind: CompressionKind, bytes: Uint8Array, chunk = 4096): Promise<Buffer> {
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  }
  const parts: Uint8Array[] = [];
  for await (const c of decompressStream(kind, chunks(), { what: `test.${kind}` })) parts.push(c);
  return Buffer.concat(parts);
}

// Compressible but not trivial: random words.
const words = Array.from({ length: 500 }, () => randomBytes(6).toString('hex'));
const text = Buffer.from(Array.from({ length: 60000 }, (_, i) => words[(i * 7919) % words.length]).join(' '));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

t.test('xz: multi-block CRC64 stream round-trips', async (t) => {
  const xz = encode('xz', ['-6', '--block-size=100000', '--check=crc64', '-c'], text);
  const dir = t.testdir({ 'in.xz': xz });
  const blocks = execFileSync('xz', ['--robot', '-lv', `${dir}/in.xz`]).toString().split('\n').filter((l) => l.startsWith('block'));
  t.ok(blocks.length >= 3, `the fixture has ${blocks.length} blocks`);
  t.equal(sha(await decode('xz', xz)), sha(text), 'bytes equal the input');
  t.equal(sha(await decode('xz', xz, 1)), sha(text), 'one byte at a time too');
});

t.test('xz: concatenated streams with padding, CRC32', async (t) => {
  const a = encode('xz', ['--check=crc32', '-c'], text.subarray(0, 1000));
  const b = encode('xz', ['--check=crc64', '-c'], text.subarray(1000, 5000));
  const joined = Buffer.concat([a, Buffer.alloc(8), b]);
  t.same(await decode('xz', joined), text.subarray(0, 5000));
  t.same(xzDecompressSync(joined, 'sync'), text.subarray(0, 5000), 'sync variant');
});

t.test('xz: SHA-256 and no-check streams; the streaming path verifies every check', async (t) => {
  for (const check of ['sha256', 'crc32', 'crc64', 'none']) {
    const xz = encode('xz', [`--check=${check}`, '--block-size=50000', '-c'], text);
    t.equal(sha(await decode('xz', xz)), sha(text), `${check}: round trip`);
    if (check === 'none') continue;
    // The last block's Check field sits just before the Index: flip its last byte (the data stays intact).
    const dir = t.testdir({ 'in.xz': xz });
    const records = execFileSync('xz', ['--robot', '-lv', `${dir}/in.xz`]).toString().split('\n').filter((l) => l.startsWith('block'));
    const last = records.at(-1)!.split('\t');
    const blockEnd = Number(last[4]) + Number(last[6]); // compressed offset + total size (padding precedes the Check)
    const bad = Buffer.from(xz);
    bad[blockEnd - 1]! ^= 0x01;
    const err = await decode('xz', bad).then(() => undefined, (e: Error & { code?: string }) => e);
    t.equal(err?.code, 'E_DECOMPRESS', `${check}: a damaged Check field is rejected`);
  }
});

t.test('xz: corrupt block, truncation, garbage are one-line errors naming the input', async (t) => {
  const xz = encode('xz', ['--block-size=100000', '-c'], text);
  const bad = Buffer.from(xz);
  bad[Math.floor(bad.length / 2)]! ^= 0x55;
  for (const [label, input] of [
    ['corrupt block', bad],
    ['truncated', xz.subarray(0, xz.length - 20)],
    ['not xz', Buffer.from('hello world, this is plain text')],
    ['empty', Buffer.alloc(0)],
  ] as const) {
    const err = await decode('xz', input).then(() => undefined, (e: Error & { code?: string }) => e);
    t.equal(err?.code, 'E_DECOMPRESS', label);
    t.match(err?.message ?? '', /^test\.xz: corrupt xz data/, `${label}: names the input`);
    t.notOk((err?.message ?? '').includes('\n'), `${label}: one line`);
  }
});

t.test('zstd: round trip, concatenated frames, corruption', async (t) => {
  const z1 = encode('zstd', ['-q', '-c', '--check'], text);
  t.equal(sha(await decode('zst', z1)), sha(text));
  const z2 = encode('zstd', ['-q', '-c'], Buffer.from('tail'));
  t.same(await decode('zst', Buffer.concat([z1, z2])), Buffer.concat([text, Buffer.from('tail')]), 'two frames');
  const trunc = await decode('zst', z1.subarray(0, z1.length - 100)).then(() => undefined, (e: { code?: string }) => e);
  t.equal(trunc?.code, 'E_DECOMPRESS', 'truncated zstd');
  const garbage = await decode('zst', Buffer.from('not zstd at all, really')).then(() => undefined, (e: { code?: string }) => e);
  t.equal(garbage?.code, 'E_DECOMPRESS', 'bad magic');
});

t.test('gzip: round trip and corruption', async (t) => {
  const gz = gzipSync(text);
  t.equal(sha(await decode('gz', gz)), sha(text));
  const bad = Buffer.from(gz);
  bad[bad.length - 6]! ^= 0xff; // CRC32 trailer
  const err = await decode('gz', bad).then(() => undefined, (e: Error & { code?: string }) => e);
  t.equal(err?.code, 'E_DECOMPRESS');
  t.match(err?.message ?? '', /^test\.gz: corrupt gz data/);
});

t.test('detectCompression by magic', async (t) => {
  t.equal(detectCompression(encode('xz', ['-c'], text.subarray(0, 10))), 'xz');
  t.equal(detectCompression(encode('zstd', ['-q', '-c'], text.subarray(0, 10))), 'zst');
  t.equal(detectCompression(gzipSync(text.subarray(0, 10))), 'gz');
  t.equal(detectCompression(text.subarray(0, 10)), 'none');
  t.equal(detectCompression(new Uint8Array([0xfd, 0x37])), 'none', 'too short to be sure');
  t.same(await decode('none', text.subarray(0, 100)), text.subarray(0, 100));
});
