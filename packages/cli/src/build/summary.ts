// What an image holds, grouped for the build summary: the init stage (our own overhead), kernel
// modules, the runtime, shared libraries and the app.
import { compressInitramfs, cpioStream, type Compression, type FileTree } from '@mkimage/rootfs';
import { INIT_DIR, MODULES_DIR } from '../init/script.js';

export const INIT_GROUP = 'init stage (busybox, init, launcher)';
export const SYSTEM_GROUP = 'system files (/etc, /dev, dirs)';

const GROUPS: Array<[string, (path: string) => boolean]> = [
  ['kernel modules', (p) => p.startsWith(MODULES_DIR + '/')],
  [INIT_GROUP, (p) => p === 'init' || p === INIT_DIR || p.startsWith(INIT_DIR + '/')],
  ['Java runtime', (p) => p.startsWith('usr/lib/jvm/')],
  ['shared libraries', (p) => /^(usr\/)?lib(64|\/x86_64-linux-gnu)?\//.test(p)],
  ['app', (p) => p.startsWith('app/')],
  // Debian's ca-certificates as a PEM bundle: data from a package, not mkimage's own overhead.
  ['CA certificates', (p) => p.startsWith('etc/ssl/')],
  [SYSTEM_GROUP, () => true],
];

function groupOf(path: string): string {
  return GROUPS.find(([, match]) => match(path))![0];
}

/** Sizes by group over the trees of an image (one for an initramfs; root + initramfs for a disk). */
export function summarizeTree(trees: readonly FileTree[]): Array<{ group: string; bytes: number; files: number }> {
  const totals = new Map<string, { bytes: number; files: number }>(GROUPS.map(([g]) => [g, { bytes: 0, files: 0 }]));
  for (const e of trees.flatMap((t) => t.entries().filter((x) => x.path !== ''))) {
    const t = totals.get(groupOf(e.path))!;
    t.files++;
    if (e.type === 'file') t.bytes += e.size;
    else if (e.type === 'symlink') t.bytes += Buffer.byteLength(e.target);
  }
  return [...totals].filter(([, t]) => t.files > 0).map(([group, t]) => ({ group, ...t }));
}

/**
 * What mkimage itself adds to an image beyond the kernel (and its modules), the runtime, its
 * libraries and the app: the init stage and system files, measured as they are stored (compressed).
 */
export async function ownOverhead(tree: FileTree, compress: Compression): Promise<number> {
  const ours = tree.entries().filter((e) => e.path !== '' && [INIT_GROUP, SYSTEM_GROUP].includes(groupOf(e.path)));
  let bytes = 0;
  for await (const chunk of compressInitramfs(cpioStream(ours), compress)) bytes += chunk.length;
  return bytes;
}
