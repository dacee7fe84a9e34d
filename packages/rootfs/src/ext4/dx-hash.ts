// The htree name hash "half_md4" (fs/ext4/hash.c; e2fsprogs lib/ext2fs/dirhash.c), unsigned-char
// variant (the superblock sets EXT2_FLAGS_UNSIGNED_HASH, so every platform agrees).

const K2 = 0o13240474631; // sqrt(2) * 2^30, as in hash.c
const K3 = 0o15666365641; // sqrt(3) * 2^30

const rol = (x: number, s: number): number => ((x << s) | (x >>> (32 - s))) >>> 0;
const F = (x: number, y: number, z: number): number => (z ^ (x & (y ^ z))) >>> 0;
const G = (x: number, y: number, z: number): number => (((x & y) >>> 0) + (((x ^ y) & z) >>> 0)) >>> 0;
const H = (x: number, y: number, z: number): number => (x ^ y ^ z) >>> 0;

/** half_md4_transform(): three rounds of a cut-down MD4 over 8 input words. */
function halfMd4Transform(buf: Uint32Array, inp: Uint32Array): void {
  let a = buf[0]!, b = buf[1]!, c = buf[2]!, d = buf[3]!;
  const r = (f: typeof F, w: number, x: number, y: number, z: number, k: number, s: number): number => rol((w + f(x, y, z) + k) >>> 0, s);
  // Round 1
  a = r(F, a, b, c, d, inp[0]!, 3); d = r(F, d, a, b, c, inp[1]!, 7);
  c = r(F, c, d, a, b, inp[2]!, 11); b = r(F, b, c, d, a, inp[3]!, 19);
  a = r(F, a, b, c, d, inp[4]!, 3); d = r(F, d, a, b, c, inp[5]!, 7);
  c = r(F, c, d, a, b, inp[6]!, 11); b = r(F, b, c, d, a, inp[7]!, 19);
  // Round 2
  a = r(G, a, b, c, d, (inp[1]! + K2) >>> 0, 3); d = r(G, d, a, b, c, (inp[3]! + K2) >>> 0, 5);
  c = r(G, c, d, a, b, (inp[5]! + K2) >>> 0, 9); b = r(G, b, c, d, a, (inp[7]! + K2) >>> 0, 13);
  a = r(G, a, b, c, d, (inp[0]! + K2) >>> 0, 3); d = r(G, d, a, b, c, (inp[2]! + K2) >>> 0, 5);
  c = r(G, c, d, a, b, (inp[4]! + K2) >>> 0, 9); b = r(G, b, c, d, a, (inp[6]! + K2) >>> 0, 13);
  // Round 3
  a = r(H, a, b, c, d, (inp[3]! + K3) >>> 0, 3); d = r(H, d, a, b, c, (inp[7]! + K3) >>> 0, 9);
  c = r(H, c, d, a, b, (inp[2]! + K3) >>> 0, 11); b = r(H, b, c, d, a, (inp[6]! + K3) >>> 0, 15);
  a = r(H, a, b, c, d, (inp[1]! + K3) >>> 0, 3); d = r(H, d, a, b, c, (inp[5]! + K3) >>> 0, 9);
  c = r(H, c, d, a, b, (inp[0]! + K3) >>> 0, 11); b = r(H, b, c, d, a, (inp[4]! + K3) >>> 0, 15);
  buf[0] = (buf[0]! + a) >>> 0; buf[1] = (buf[1]! + b) >>> 0;
  buf[2] = (buf[2]! + c) >>> 0; buf[3] = (buf[3]! + d) >>> 0;
}

/** str2hashbuf_unsigned(): packs up to num*4 name bytes into words, padded with the length. */
function str2hashbuf(msg: Uint8Array, start: number, len: number, out: Uint32Array, num: number): void {
  let pad = (len | (len << 8)) >>> 0;
  pad = (pad | (pad << 16)) >>> 0;
  let val = pad;
  const n = Math.min(len, num * 4);
  let o = 0;
  for (let i = 0; i < n; i++) {
    val = (msg[start + i]! + ((val << 8) >>> 0)) >>> 0;
    if (i % 4 === 3) { out[o++] = val; val = pad; num--; }
  }
  if (--num >= 0) out[o++] = val;
  while (--num >= 0) out[o++] = pad;
}

/** EXT4_HTREE_EOF_32BIT: the hash value reserved for "end of directory". */
const EXT4_HTREE_EOF_32BIT = 0x7fffffff;

// Scratch words reused by every call (the hash is synchronous): a 20,000-entry directory would
// otherwise allocate 40,000 small typed arrays that live through the whole htree build.
const HASH_BUF = new Uint32Array(4);
const HASH_INP = new Uint32Array(8);
const DEFAULT_SEED = Uint32Array.of(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476);

/** half_md4 hash of a name with the superblock's s_hash_seed (four u32, all zero = default). */
export function dxHashHalfMd4(name: Uint8Array, seed: Uint32Array): { hash: number; minor: number } {
  const buf = HASH_BUF;
  if (seed.some((w) => w !== 0)) buf.set(seed);
  else buf.set(DEFAULT_SEED);
  const inp = HASH_INP;
  for (let p = 0, len = name.length; len > 0; len -= 32, p += 32) {
    str2hashbuf(name, p, len, inp, 8);
    halfMd4Transform(buf, inp);
  }
  let hash = buf[1]! & ~1;
  if (hash >>> 0 === (EXT4_HTREE_EOF_32BIT << 1) >>> 0) hash = (EXT4_HTREE_EOF_32BIT - 1) << 1;
  return { hash: hash >>> 0, minor: buf[2]! };
}
