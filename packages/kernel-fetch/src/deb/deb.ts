// Reading a .deb: deb(5). Members in order: "debian-binary" ("2.0\n"), "control.tar[.gz|.xz|.zst]",
// "data.tar[.gz|.xz|.zst]"; members whose name starts with "_" may sit between them and are ignored.
import { createReadStream } from 'node:fs';
import { compressionFromName, decompressStream, type CompressionKind } from '../compress/index.js';
import { planXzFileRegion, xzDecompressFile } from '../compress/xz-parallel.js';
import { readAr, type ArMember } from './ar.js';
import { parseControl, type DebControl } from './control.js';
import { DebFormatError } from './errors.js';
import { readTarEntries, type DebEntry } from './tar.js';

/** deb(5): the format version line of "debian-binary"; dpkg accepts any 2.x. */
export const DEB_FORMAT_VERSION = /^2\.[0-9]+\n/;
/** Compressions we decode for control.tar and data.tar (bzip2/lzma data.tar are obsolete). */
const TAR_MEMBER = /^(control|data)\.tar(\.gz|\.xz|\.zst)?$/;

/** Read size for .deb files: big enough that per-chunk overhead vanishes next to decoding. */
const DEB_READ_CHUNK = 256 * 1024;

export interface DebTarMember {
  kind: 'control' | 'data';
  name: string;
  compression: CompressionKind;
  member: ArMember;
}

async function collect(body: AsyncIterable<Uint8Array>, limit: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > limit) break;
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/** The control.tar and data.tar members of a .deb, in order, after checking the container's layout. */
export async function* debTarMembers(debPath: string): AsyncGenerator<DebTarMember> {
  let state: 'start' | 'binary' | 'control' | 'data' = 'start';
  const input = createReadStream(debPath, { highWaterMark: DEB_READ_CHUNK });
  try {
    for await (const member of readAr(input, debPath)) {
      const name = member.header.name;
      if (state === 'start') {
        if (name !== 'debian-binary') throw new DebFormatError({ deb: debPath, member: name, reason: 'first member is not "debian-binary"' });
        const text = (await collect(member.body, 64)).toString('latin1');
        if (!DEB_FORMAT_VERSION.test(text)) throw new DebFormatError({ deb: debPath, member: name, reason: `unsupported format version ${JSON.stringify(text.slice(0, 16))} (want 2.x)` });
        state = 'binary';
        continue;
      }
      if (name.startsWith('_')) continue; // deb(5): reserved for local additions, ignored
      const m = TAR_MEMBER.exec(name);
      const expected = state === 'binary' ? 'control' : state === 'control' ? 'data' : undefined;
      if (!m || m[1] !== expected) {
        throw new DebFormatError({ deb: debPath, member: name, reason: expected ? `unexpected member, want ${expected}.tar[.gz|.xz|.zst]` : 'unexpected member after data.tar' });
      }
      state = expected as 'control' | 'data';
      yield { kind: state, name, compression: compressionFromName(name), member };
      if (state === 'data') return;
    }
    throw new DebFormatError({ deb: debPath, reason: state === 'start' ? 'no members' : `missing ${state === 'binary' ? 'control' : 'data'}.tar member` });
  } finally {
    input.destroy();
  }
}

/** The tar entries of one member ("data" by default), decompressed as they stream; see ExtractOptions.verified. */
export async function* readDebEntries(debPath: string, opts: { member?: 'data' | 'control'; verified?: boolean } = {}): AsyncGenerator<DebEntry> {
  const want = opts.member ?? 'data';
  for await (const m of debTarMembers(debPath)) {
    if (m.kind !== want) continue;
    const what = `${debPath}: ${m.name}`;
    // A .deb is a file: an xz data.tar's blocks can be found from its Index and decoded in parallel.
    // Anything unusual (truncated file, one stream of several, damaged Index) takes the streaming path.
    const plan = m.compression === 'xz' && want === 'data' ? await planXzFileRegion(debPath, m.member.offset, m.member.header.size) : undefined;
    // The blocks' xz Checks are only skipped for a .deb whose SHA256 the caller verified.
    const body = plan ? xzDecompressFile(debPath, m.member.offset, plan, what, { check: opts.verified !== true }) : decompressStream(m.compression, m.member.body, { what });
    yield* readTarEntries(body, debPath, m.name);
    return;
  }
}

/** Largest control file we accept (dpkg's own control files are a few KiB). */
const CONTROL_MAX = 1024 * 1024;

/** The fields of the package's `control` file (Package, Version, Architecture, Depends, ...). */
export async function readDebControl(debPath: string): Promise<DebControl> {
  for await (const e of readDebEntries(debPath, { member: 'control' })) {
    if (e.path !== 'control') continue;
    if (e.type !== 'file') throw new DebFormatError({ deb: debPath, member: 'control.tar', entry: e.path, reason: 'control is not a regular file' });
    if (e.size > CONTROL_MAX) throw new DebFormatError({ deb: debPath, member: 'control.tar', entry: e.path, reason: `control file is ${e.size} bytes, more than ${CONTROL_MAX}` });
    const parsed = parseControl((await collect(e.body, CONTROL_MAX)).toString('utf8'));
    if (typeof parsed === 'string') throw new DebFormatError({ deb: debPath, member: 'control.tar', entry: 'control', reason: parsed });
    return parsed;
  }
  throw new DebFormatError({ deb: debPath, member: 'control.tar', reason: 'no "control" file in the control archive' });
}
