// The JKS key store ("Java KeyStore"), trusted-certificate entries only: the format of a JRE's
// lib/security/cacerts that every Java release reads (JDK 9+ reads it through the PKCS12 store's
// keystore.type.compat fallback). Layout per OpenJDK
// src/java.base/share/classes/sun/security/provider/JavaKeyStore.java (engineStore/engineLoad):
//
//   header   magic u32 | version u32 | count u32                     (big-endian, DataOutputStream)
//   entry    tag u32 = 2 | alias UTF | date u64 (ms) | type UTF | length u32 | certificate (DER)
//   trailer  SHA-1( password as UTF-16BE || "Mighty Aphrodite" || every byte above )
//
// "UTF" is java.io.DataOutput.writeUTF: a u16 byte length, then modified UTF-8.
import { createHash } from 'node:crypto';
import { defineStruct } from '@mkimage/rootfs';
import { CodeError } from '../errors.js';

/** JavaKeyStore.MAGIC. */
export const JKS_MAGIC = 0xfeedfeed;
/** JavaKeyStore.VERSION_2: entries carry their certificate type. */
export const JKS_VERSION_2 = 2;
/** The tag of a trusted-certificate entry (1 is a private key entry, which we never write). */
export const JKS_TRUSTED_CERT_ENTRY = 2;
/** The "whitener" mixed into the integrity digest (JavaKeyStore.getPreKeyedHash). */
export const JKS_WHITENER = 'Mighty Aphrodite';
/** The password every JDK ships its cacerts with (keytool -storepass changeit). */
export const CACERTS_PASSWORD = 'changeit';
/** Certificate type of every entry (CertificateFactory type). */
export const X509 = 'X.509';
/** Length of the SHA-1 trailer. */
const SHA1_LENGTH = 20;
/** writeUTF's u16 length limit. */
const UTF_MAX = 0xffff;

const JKS_HEADER = defineStruct('JKS header', 12, [
  { name: 'magic', offset: 0, type: 'u32' },
  { name: 'version', offset: 4, type: 'u32' },
  { name: 'count', offset: 8, type: 'u32' },
] as const, { endian: 'be' });

export interface TrustedCertEntry {
  /** Alias as stored; JKS compares aliases in lower case, so we write them that way. */
  alias: string;
  /** Creation time, milliseconds since the epoch. */
  dateMs: number;
  /** DER-encoded X.509 certificate. */
  der: Uint8Array;
}

export class JksError extends CodeError {}

/** java.io.DataOutput.writeUTF's encoding: UTF-16 code units, NUL as C0 80, surrogates one by one. */
export function modifiedUtf8(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x01 && c <= 0x7f) out.push(c);
    else if (c <= 0x7ff) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Uint8Array.from(out);
}

function decodeModifiedUtf8(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length;) {
    const x = b[i]!;
    if (x < 0x80) { s += String.fromCharCode(x); i += 1; }
    else if ((x & 0xe0) === 0xc0) { s += String.fromCharCode(((x & 0x1f) << 6) | (b[i + 1]! & 0x3f)); i += 2; }
    else { s += String.fromCharCode(((x & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f)); i += 3; }
  }
  return s;
}

/** The key of the integrity digest: each password char as two bytes, high first, then the whitener. */
function keyedSha1(password: string): ReturnType<typeof createHash> {
  const pw = Buffer.alloc(password.length * 2);
  for (let i = 0; i < password.length; i++) pw.writeUInt16BE(password.charCodeAt(i), i * 2);
  return createHash('sha1').update(pw).update(Buffer.from(JKS_WHITENER, 'utf8'));
}

function utf(s: string, what: string): Buffer {
  const bytes = modifiedUtf8(s);
  if (bytes.length > UTF_MAX) throw new JksError('E_INTERNAL', `BUG: JKS ${what} is ${bytes.length} bytes, over writeUTF's ${UTF_MAX}`);
  const out = Buffer.alloc(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  out.set(bytes, 2);
  return out;
}

/** Encodes a JKS store of trusted certificates, in the given order, sealed with `password`. */
export function encodeJks(entries: readonly TrustedCertEntry[], password = CACERTS_PASSWORD): Uint8Array {
  const seen = new Set<string>();
  const parts: Uint8Array[] = [JKS_HEADER.encode({ magic: JKS_MAGIC, version: JKS_VERSION_2, count: entries.length })];
  for (const e of entries) {
    const alias = e.alias.toLowerCase();
    if (seen.has(alias)) throw new JksError('E_DUPLICATE_ALIAS', `two certificates share the key store alias ${alias}; JKS aliases are case-insensitive`, { alias });
    seen.add(alias);
    if (!Number.isSafeInteger(e.dateMs)) throw new JksError('E_INTERNAL', `BUG: JKS date ${e.dateMs} of ${alias} is not an integer`);
    const fixed = Buffer.alloc(4);
    fixed.writeUInt32BE(JKS_TRUSTED_CERT_ENTRY, 0);
    const date = Buffer.alloc(8);
    date.writeBigInt64BE(BigInt(e.dateMs), 0);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(e.der.length, 0);
    parts.push(fixed, utf(alias, 'alias'), date, utf(X509, 'certificate type'), length, e.der);
  }
  const body = Buffer.concat(parts);
  const digest = keyedSha1(password).update(body).digest();
  const out = Buffer.concat([body, digest]);
  if (out.length !== body.length + SHA1_LENGTH) throw new JksError('E_INTERNAL', `BUG: JKS trailer: got ${out.length - body.length} bytes, want ${SHA1_LENGTH}`);
  return out;
}

/** Decodes a JKS store of trusted certificates, checking the digest with `password` first. */
export function decodeJks(bytes: Uint8Array, password = CACERTS_PASSWORD): TrustedCertEntry[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string): never => { throw new JksError('E_BAD_KEYSTORE', `not a valid JKS key store: ${why}`); };
  if (buf.length < JKS_HEADER.size + SHA1_LENGTH) bad(`${buf.length} bytes is too short`);
  const header = JKS_HEADER.decode(buf);
  if (header.magic !== JKS_MAGIC) bad(`magic 0x${header.magic.toString(16)}, want 0x${JKS_MAGIC.toString(16)}`);
  if (header.version !== JKS_VERSION_2) bad(`version ${header.version}, only ${JKS_VERSION_2} is read`);
  const end = buf.length - SHA1_LENGTH;
  const want = keyedSha1(password).update(buf.subarray(0, end)).digest();
  if (!want.equals(buf.subarray(end))) bad('the integrity digest does not match (tampered with, or another password)');
  let at = JKS_HEADER.size;
  const need = (n: number): void => { if (at + n > end) bad(`entry data runs past the digest at byte ${at}`); };
  const readUtf = (): string => {
    need(2);
    const n = buf.readUInt16BE(at);
    need(2 + n);
    const s = decodeModifiedUtf8(buf.subarray(at + 2, at + 2 + n));
    at += 2 + n;
    return s;
  };
  const entries: TrustedCertEntry[] = [];
  for (let i = 0; i < header.count; i++) {
    need(4);
    const tag = buf.readUInt32BE(at);
    at += 4;
    if (tag !== JKS_TRUSTED_CERT_ENTRY) bad(`entry ${i} has tag ${tag}; only trusted certificates (${JKS_TRUSTED_CERT_ENTRY}) are read`);
    const alias = readUtf();
    need(8);
    const dateMs = Number(buf.readBigInt64BE(at));
    at += 8;
    const type = readUtf();
    if (type !== X509) bad(`entry ${alias} has certificate type ${type}`);
    need(4);
    const n = buf.readUInt32BE(at);
    need(4 + n);
    entries.push({ alias, dateMs, der: Uint8Array.prototype.slice.call(buf, at + 4, at + 4 + n) });
    at += 4 + n;
  }
  if (at !== end) bad(`${end - at} bytes after the last entry`);
  return entries;
}
