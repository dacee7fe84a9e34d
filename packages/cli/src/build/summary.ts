// What an image holds, grouped for the build summary: the init stage (our own overhead), kernel
// modules, the runtime, shared libraries and the app.
import type { FileTree } from '@mkimage/rootfs';
import { INIT_DIR, MODULES_DIR } from '../init/script.js';

const GROUPS: Array<[string, (path: string) => boolean]> = [
  ['kernel modules', (p) => p.startsWith(MODULES_DIR + '/')],
  ['init stage (busybox, init, launcher)', (p) => p === 'init' || p.startsWith(INIT_DIR + '/')],
  ['Java runtime', (p) => p.startsWith('usr/lib/jvm/')],
  ['shared libraries', (p) => /^(usr\/)?lib(64|\/x86_64-linux-gnu)?\//.test(p)],
  ['app', (p) => p.startsWith('app/')],
  ['system files (/etc, /dev, dirs)', () => true],
];

export function summarizeTree(tree: FileTree): Array<{ group: string; bytes: number; files: number }> {
  const totals = new Map<string, { bytes: number; files: number }>(GROUPS.map(([g]) => [g, { bytes: 0, files: 0 }]));
  for (const e of tree.entries()) {
    const [group] = GROUPS.find(([, match]) => match(e.path))!;
    const t = totals.get(group)!;
    t.files++;
    if (e.type === 'file') t.bytes += e.size;
    else if (e.type === 'symlink') t.bytes += Buffer.byteLength(e.target);
  }
  return [...totals].filter(([, t]) => t.files > 0).map(([group, t]) => ({ group, ...t }));
}
