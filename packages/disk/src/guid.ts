// GUIDs as GPT stores them (UEFI spec §5.3.1 and Appendix A): the first three fields little-endian,
// the last two (clock sequence and node) in byte order. "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" is
// stored as 28 73 2A C1 1F F8 D2 11 BA 4B 00 A0 C9 3E C9 3B.
import { createHmac } from 'node:crypto';
import type { CustomFieldType } from '@mkimage/rootfs';
import { InvalidOptionError } from './errors.js';

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Canonical upper-case form; throws E_DISK_OPTION on anything that is not a GUID. */
export function normalizeGuid(guid: string): string {
  if (!GUID_RE.test(guid)) throw new InvalidOptionError(`"${guid}" is not a GUID (expected 8-4-4-4-12 hex digits)`, { option: 'guid', value: guid });
  return guid.toUpperCase();
}

/** The 16 bytes in string order (RFC 4122 / sd_id128 order). */
export function guidStringBytes(guid: string): Uint8Array {
  return Uint8Array.from(Buffer.from(normalizeGuid(guid).replace(/-/g, ''), 'hex'));
}

/** The mixed-endian on-disk encoding. */
export function guidToBytes(guid: string): Uint8Array {
  const s = guidStringBytes(guid);
  return Uint8Array.from([s[3]!, s[2]!, s[1]!, s[0]!, s[5]!, s[4]!, s[7]!, s[6]!, ...s.subarray(8)]);
}

export function guidFromBytes(b: Uint8Array): string {
  const s = Uint8Array.from([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8, 16)]);
  return guidFromStringBytes(s);
}

/** The `guid` field type for struct tables (GPT header and entries): 16 bytes, mixed-endian. */
export const guidField: CustomFieldType<string> = { width: 16, encode: guidToBytes, decode: guidFromBytes };

export function guidFromStringBytes(s: Uint8Array): string {
  const h = Buffer.from(s).toString('hex').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * A version-4-shaped GUID derived from content, as systemd-repart derives partition UUIDs
 * (repart.c partition_acquire_uuid): HMAC-SHA256 keyed with the seed over the message, first 16
 * bytes, then the version (4) and variant (10xx) bits set (RFC 4122 §4.4).
 */
export function deriveGuid(seed: Uint8Array | string, message: Uint8Array): string {
  const mac = createHmac('sha256', typeof seed === 'string' ? Buffer.from(seed, 'utf8') : seed).update(message).digest();
  const s = Uint8Array.from(mac.subarray(0, 16));
  s[6] = (s[6]! & 0x0f) | 0x40;
  s[8] = (s[8]! & 0x3f) | 0x80;
  return guidFromStringBytes(s);
}

/** Partition GUID: HMAC(seed, type GUID bytes ‖ LE64 instance number among partitions of that type). */
export function derivePartitionGuid(seed: Uint8Array | string, typeGuid: string, instance: number): string {
  const msg = new Uint8Array(24);
  msg.set(guidStringBytes(typeGuid), 0);
  new DataView(msg.buffer).setBigUint64(16, BigInt(instance), true);
  return deriveGuid(seed, msg);
}
