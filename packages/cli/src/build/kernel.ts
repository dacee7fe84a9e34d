// The kernel and its modules: vmlinuz from the versioned image package, and the closure of the
// drivers the machine needs, placed in the init stage in load order.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModuleSet, moduleElfBytes } from '@mkimage/kernel-fetch';
import type { FileTree } from '@mkimage/rootfs';
import { MODULES_DIR } from '../init/script.js';
import { BuildError } from './errors.js';
import { findInPackage } from '../merged-usr.js';

export async function kernelFilesIn(kernelDir: string, release: string): Promise<{ vmlinuz: string; modulesRoot: string }> {
  const vmlinuz = join(kernelDir, 'boot', `vmlinuz-${release}`);
  // bookworm ships lib/modules; trixie (merged /usr) ships usr/lib/modules.
  const modulesRoot = (await findInPackage(kernelDir, `lib/modules/${release}`)) ?? join(kernelDir, 'lib', 'modules', release);
  for (const p of [vmlinuz, modulesRoot]) {
    if (!(await stat(p).catch(() => undefined))) throw new BuildError('E_KERNEL', `the kernel package has no ${p.slice(kernelDir.length + 1)}; is it a linux-image package?`);
  }
  return { vmlinuz, modulesRoot };
}

export interface ModuleSelection {
  /** Loaded when the kernel has them; silently skipped when built in, warned about when absent. */
  defaults: string[];
  /** Asked for by the user: an unknown name is an error. */
  requested: string[];
  onWarning: (message: string) => void;
}

/**
 * Adds the modules (decompressed: busybox insmod reads plain .ko) to the tree and returns their image
 * paths in load order: every module after the modules it depends on.
 */
export async function addKernelModules(tree: FileTree, modulesRoot: string, sel: ModuleSelection): Promise<string[]> {
  const names: string[] = [...sel.requested];
  const modules = await ModuleSet.open(modulesRoot); // one walk of the modules tree for every closure below
  for (const name of sel.defaults) {
    try {
      await modules.closure([name]);
      names.push(name);
    } catch (err) {
      if ((err as { code?: string }).code !== 'E_UNKNOWN_MODULE') throw err;
      sel.onWarning(`this kernel has no ${name} driver; images will boot without it`);
    }
  }
  const closure = await modules.closure(names);
  const paths: string[] = [];
  for (const mod of closure) {
    const file = join(modulesRoot, mod.file);
    const bytes = moduleElfBytes(await readFile(file), mod.file);
    const path = `${MODULES_DIR}/${mod.name}.ko`;
    tree.file(path, bytes, { mode: 0o644 });
    paths.push(path);
  }
  return paths;
}
