// The fixed part of every image's file tree: the directories the init stage mounts over, the few
// /etc files glibc and the JVM read, and the init stage itself (busybox, init script, launcher).
import type { FileTree } from '@mkimage/rootfs';
import { buildLauncher } from '../init/launcher.js';
import { CMDLINE_AWK, DOTENV_AWK } from '../init/dotenv.js';
import {
  BUSYBOX_PATH, CMDLINE_AWK_PATH, DOTENV_AWK_PATH, INIT_DIR, LAUNCHER_PATH, UDHCPC_SCRIPT_PATH, initScript, udhcpcScript, type InitOptions,
} from '../init/script.js';

/** Files the init stage writes at boot into /run (a tmpfs), linked from a root that may be read-only. */
const RUNTIME_ETC = ['hosts', 'resolv.conf', 'hostname'];

/** Linux device numbers of the console (Documentation/admin-guide/devices.txt: 5,1 = /dev/console). */
const CONSOLE_MAJOR = 5;
const CONSOLE_MINOR = 1;

export interface BaseLayoutOptions {
  user?: { name: string; uid: number; gid: number; home: string };
}

/** Directories, /dev/console and /etc files every image has. */
export function addBaseLayout(tree: FileTree, o: BaseLayoutOptions): void {
  for (const dir of ['proc', 'sys', 'dev', 'run', 'etc', 'usr', 'root']) tree.dir(dir, { mode: 0o755 });
  tree.dir('root', { mode: 0o700 });
  tree.dir('tmp', { mode: 0o1777 });
  // The kernel opens /dev/console for PID 1 before init runs, so it must exist in the initramfs.
  tree.device('dev/console', 'char', CONSOLE_MAJOR, CONSOLE_MINOR, { mode: 0o600 });
  for (const name of RUNTIME_ETC) tree.symlink(`etc/${name}`, `/run/mkimage/${name}`);
  const users = [['root', 0, 0, '/root'] as const, ...(o.user ? [[o.user.name, o.user.uid, o.user.gid, o.user.home] as const] : [])];
  // The JVM takes user.home from passwd, not $HOME; no account has a login shell (there is none).
  tree.file('etc/passwd', users.map(([n, u, g, h]) => `${n}:x:${u}:${g}:${n}:${h}:/nonexistent\n`).join(''));
  tree.file('etc/group', users.map(([n, , g]) => `${n}:x:${g}:\n`).join(''));
  // Without nsswitch.conf glibc asks DNS before /etc/hosts for the machine's own name.
  tree.file('etc/nsswitch.conf', 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n');
  if (o.user) tree.dir(o.user.home.replace(/^\//, ''), { mode: 0o700, uid: o.user.uid, gid: o.user.gid });
}

export interface InitStageOptions extends InitOptions {
  /** Host path of busybox (from Debian's busybox-static). */
  busybox: { path: string; size: number };
}

/** The init stage: /init, busybox, the udhcpc hook and the launcher. All of it deletes itself at boot. */
export function addInitStage(tree: FileTree, o: InitStageOptions): void {
  tree.dir(INIT_DIR, { mode: 0o700 });
  tree.hostFile(BUSYBOX_PATH, o.busybox.path, o.busybox.size, { mode: 0o755 });
  tree.file(UDHCPC_SCRIPT_PATH, udhcpcScript(), { mode: 0o755 });
  tree.file(DOTENV_AWK_PATH, DOTENV_AWK, { mode: 0o644 });
  tree.file(CMDLINE_AWK_PATH, CMDLINE_AWK, { mode: 0o644 });
  const launcher = buildLauncher({ workdir: o.workdir, ...(o.user ? { user: { uid: o.user.uid, gid: o.user.gid } } : {}) });
  tree.file(LAUNCHER_PATH, launcher, { mode: 0o755 });
  tree.file('init', initScript(o), { mode: 0o755 });
}
