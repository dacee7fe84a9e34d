// A kernel module's `.modinfo` section: NUL-separated "key=value" strings written by the
// MODULE_INFO() macros (include/linux/moduleparam.h) and modpost ("depends=", "name=", "vermagic=").
// `.ko.xz` (trixie, built with xz --check=crc32) and `.ko.zst`/`.ko.gz` are decompressed first.
import { gunzipSync } from 'node:zlib';
import { decompress as zstdDecompressSync } from 'fzstd';
import { detectCompression } from '../compress/detect.js';
import { xzDecompressSync } from '../compress/xz.js';
import { elfSections } from './elf.js';
import { ModinfoError } from './errors.js';

export interface ModInfo {
  /** "name=" (modpost), when present. */
  name?: string;
  /** "depends=": modules this one needs loaded first ('-' normalised to '_'). */
  depends: string[];
  /** "alias=" entries. */
  aliases: string[];
  /** "softdep=" entries, verbatim ("pre: crc32c"). */
  softdeps: string[];
  vermagic?: string;
  /** Every key=value in order, verbatim. */
  fields: Array<[string, string]>;
}

/** Module names compare with '-' and '_' as the same character (kmod does the same). */
export function normalizeModuleName(name: string): string {
  return name.replace(/-/g, '_');
}

/** Decompresses a module file's bytes when they carry an xz, zstd or gzip magic. */
export function moduleElfBytes(bytes: Uint8Array, file = 'module'): Uint8Array {
  try {
    switch (detectCompression(bytes)) {
      case 'xz':
        return xzDecompressSync(bytes, file);
      case 'zst':
        return zstdDecompressSync(bytes);
      case 'gz':
        return gunzipSync(bytes);
      default:
        return bytes;
    }
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e?.code === 'string' && e.code.startsWith('E_')) throw err;
    throw new ModinfoError({ file, reason: `cannot decompress (${String(e?.message ?? err)})` });
  }
}

/** Parses the `.modinfo` of a module (plain ELF or compressed); `file` names it in errors. */
export function readModinfo(bytes: Uint8Array, file = 'module'): ModInfo {
  const elf = moduleElfBytes(bytes, file);
  const sections = elfSections(elf);
  if (typeof sections === 'string') throw new ModinfoError({ file, reason: sections });
  const sec = sections.find((s) => s.name === '.modinfo');
  if (!sec) throw new ModinfoError({ file, reason: 'no .modinfo section (not a kernel module?)' });
  const info: ModInfo = { depends: [], aliases: [], softdeps: [], fields: [] };
  const text = Buffer.from(elf.subarray(sec.offset, sec.offset + sec.size)).toString('utf8');
  for (const item of text.split('\0')) {
    if (item === '') continue; // padding between aligned strings
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    info.fields.push([key, value]);
    if (key === 'name') info.name = value;
    else if (key === 'depends') info.depends.push(...value.split(',').filter((d) => d !== '').map(normalizeModuleName));
    else if (key === 'alias') info.aliases.push(value);
    else if (key === 'softdep') info.softdeps.push(value);
    else if (key === 'vermagic') info.vermagic = value;
  }
  return info;
}
