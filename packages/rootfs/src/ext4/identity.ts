// Content-derived identity: the filesystem UUID and the htree hash seed come from a SHA-256 of the
// layout inputs (every entry's metadata, in-memory file bytes, and the options), never from a
// random source, so the same tree and options give the same image (STYLE.md §5).
//
// Bytes of host files and streams are not read here (that would read all data twice): their
// path in the image and size stand in for them.
import { createHash } from 'node:crypto';
import type { FileTree } from '../tree.js';
import { crc32cUpdate } from './crc32c.js';

export interface Identity {
  uuid: Uint8Array;
  hashSeed: Uint32Array;
  /** crc32c(~0, uuid): the seed of every metadata checksum (ext4_fill_super: s_csum_seed). */
  csumSeed: number;
}

export function digestInputs(tree: FileTree, options: unknown): Buffer {
  const h = createHash('sha256');
  h.update(JSON.stringify(options));
  for (const e of tree.entries()) {
    const { path, type, mode, uid, gid, mtime, mtimeNsec } = e;
    h.update(JSON.stringify([path, type, mode, uid, gid, mtime, mtimeNsec]));
    if (e.type === 'file') {
      h.update(`size:${e.size}:${e.data.kind}`);
      if (e.data.kind === 'bytes') h.update(e.data.bytes);
      if (e.data.kind === 'sparse') for (const s of e.data.segments) h.update(`@${s.offset}`).update(s.bytes);
    }
    if (e.type === 'symlink' || e.type === 'hardlink') h.update(`->${e.target}`);
    if (e.type === 'char' || e.type === 'block') h.update(`dev:${e.major}:${e.minor}`);
    for (const [k, v] of [...(e.xattrs ?? new Map<string, Uint8Array>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      h.update(`xattr:${k}=`).update(v);
    }
    h.update('\0');
  }
  return h.digest();
}

/** A version-4-shaped UUID from a digest and a domain string (like systemd-repart's derived UUIDs). */
function derive(digest: Buffer, domain: string): Buffer {
  return createHash('sha256').update(domain).update(digest).digest().subarray(0, 16);
}

export function parseUuid(text: string): Uint8Array | undefined {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex) || !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(text)) return undefined;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function formatUuid(u: Uint8Array): string {
  const h = Buffer.from(u).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function identity(digest: Buffer, uuid?: Uint8Array): Identity {
  let id: Uint8Array = uuid ?? Uint8Array.from(derive(digest, 'mkimage ext4 uuid'));
  if (!uuid) {
    id[6] = (id[6]! & 0x0f) | 0x40; // version 4
    id[8] = (id[8]! & 0x3f) | 0x80; // RFC 4122 variant
  }
  id = Uint8Array.from(id);
  const seedBytes = derive(digest, 'mkimage ext4 htree hash seed');
  const hashSeed = new Uint32Array(4);
  for (let i = 0; i < 4; i++) hashSeed[i] = seedBytes.readUInt32LE(i * 4);
  if (hashSeed.every((w) => w === 0)) hashSeed[0] = 1; // all-zero means "use the default" on disk
  return { uuid: id, hashSeed, csumSeed: crc32cUpdate(0xffffffff, id) };
}
