// Recognise a compressed stream by its first bytes (magic numbers from each format's spec).
import type { CompressionKind } from './errors.js';

/** xz file format 1.2.1 §2.1.1.1: Header Magic Bytes. */
export const XZ_HEADER_MAGIC = Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00);
/** RFC 8878 §3.1.1: zstd frame Magic_Number 0xFD2FB528, little-endian. */
export const ZSTD_MAGIC = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd);
/** RFC 1952 §2.3.1: gzip ID1, ID2. */
export const GZIP_MAGIC = Uint8Array.of(0x1f, 0x8b);

/** The longest magic above: pass at least this many bytes when you have them. */
export const DETECT_BYTES = XZ_HEADER_MAGIC.length;

function startsWith(bytes: Uint8Array, magic: Uint8Array): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}

/** The compression of a stream starting with `firstBytes`; 'none' when no known magic matches. */
export function detectCompression(firstBytes: Uint8Array): CompressionKind {
  if (startsWith(firstBytes, XZ_HEADER_MAGIC)) return 'xz';
  if (startsWith(firstBytes, ZSTD_MAGIC)) return 'zst';
  if (startsWith(firstBytes, GZIP_MAGIC)) return 'gz';
  return 'none';
}

/** The compression a file name announces by its suffix (".xz", ".zst", ".gz"), or 'none'. */
export function compressionFromName(name: string): CompressionKind {
  if (name.endsWith('.xz')) return 'xz';
  if (name.endsWith('.zst')) return 'zst';
  if (name.endsWith('.gz')) return 'gz';
  return 'none';
}
