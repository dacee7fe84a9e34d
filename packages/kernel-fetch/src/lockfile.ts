// mkimage.lock: the exact Debian packages a build used, so the image can be rebuilt identically later.
// Human-readable deb822 text, one paragraph per package, sorted by name. Besides what a download needs
// (suite, pool path, size, SHA256) it keeps the relationship fields, so a locked build can still follow
// dependencies after the archive has dropped a superseded version (security kernels go within weeks).
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { formatParagraph, parseDeb822 } from './deb822.js';
import { LockError } from './errors.js';
import type { PackageRecord } from './packages-index.js';

export const LOCK_FILE_NAME = 'mkimage.lock';

/** A pinned package: its index record plus the suite it came from. */
export interface LockEntry extends PackageRecord {
  suite: string;
}

// Field table: lock field name <-> entry key, in file order; drives both format and parse.
const FIELDS: [field: string, key: keyof LockEntry, required: boolean][] = [
  ['Package', 'name', true],
  ['Version', 'version', true],
  ['Architecture', 'arch', true],
  ['Suite', 'suite', true],
  ['Filename', 'filename', true],
  ['Size', 'size', true],
  ['SHA256', 'sha256', true],
  ['Pre-Depends', 'preDepends', false],
  ['Depends', 'depends', false],
  ['Provides', 'provides', false],
];

const HEADER = `# mkimage.lock: the exact Debian packages this image was built from.
# Builds use these versions and check these SHA256 sums; refresh with --update-lock.
`;

/** Formats entries as lockfile text (sorted by name, so the file is deterministic). */
export function formatLock(entries: LockEntry[]): string {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const paragraphs = sorted.map((e) =>
    formatParagraph(FIELDS.filter(([, k]) => e[k] !== undefined && e[k] !== '').map(([f, k]) => [f, String(e[k])])),
  );
  return HEADER + '\n' + paragraphs.join('\n');
}

/** Parses lockfile text; `file` names it in errors. */
export function parseLock(text: string, file: string): LockEntry[] {
  let paragraphs;
  try {
    paragraphs = parseDeb822(text, { comments: true });
  } catch (err) {
    throw new LockError(`${file}: not a lockfile (${(err as Error).message}); delete it or rebuild with --update-lock`, { file });
  }
  const seen = new Set<string>();
  return paragraphs.map((p, i) => {
    const e: Record<string, string | number> = {};
    for (const [field, key, required] of FIELDS) {
      const v = p[field.toLowerCase()];
      if (v === undefined) {
        if (required) throw new LockError(`${file}: entry ${i + 1} has no ${field} field; rebuild it with --update-lock`, { file, entry: i + 1 });
        continue;
      }
      e[key] = v;
    }
    if (!/^\d+$/.test(String(e['size'])) || !/^[0-9a-f]{64}$/.test(String(e['sha256']))) {
      throw new LockError(`${file}: entry ${e['name']} has a malformed Size or SHA256; rebuild it with --update-lock`, { file, package: e['name'] });
    }
    e['size'] = Number(e['size']);
    if (seen.has(String(e['name']))) throw new LockError(`${file}: package ${e['name']} is listed twice`, { file, package: e['name'] });
    seen.add(String(e['name']));
    return e as unknown as LockEntry;
  });
}

/** Reads a lockfile; undefined when it does not exist. */
export async function readLockFile(path: string): Promise<LockEntry[] | undefined> {
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LockError(`${path}: cannot read the lockfile: ${(err as Error).message}`, { file: path });
  }
  return parseLock(text, path);
}

/** Writes a lockfile atomically (temp file beside it, then rename). Returns false when unchanged. */
export async function writeLockFile(path: string, entries: LockEntry[]): Promise<boolean> {
  const text = formatLock(entries);
  try {
    if ((await readFile(path, 'utf8')) === text) return false;
  } catch {
    /* absent: write it */
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new LockError(`${path}: cannot write the lockfile: ${(err as Error).message}`, { file: path });
  }
  return true;
}
