// Which module files to load, in order, for a set of module names. Debian's kernel package ships
// no modules.dep (depmod runs at install time), so dependencies come from each module's .modinfo.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModuleCycleError, UnknownModuleError } from './errors.js';
import { normalizeModuleName, readModinfo } from './modinfo.js';

export interface ModuleInfo {
  /** Normalised name ('_' for '-'). */
  name: string;
  /** Path relative to the modules root, e.g. "kernel/drivers/net/virtio_net.ko". */
  file: string;
  /** From depends= (normalised); built-in ones included as listed. */
  depends: string[];
}

/** File names of loadable modules: "x.ko", optionally compressed. */
const MODULE_FILE = /\.ko(\.xz|\.zst|\.gz)?$/;

// Subdirectories are read concurrently; the caller sorts, so the order found does not matter.
async function walk(root: string, rel: string, out: string[]): Promise<void> {
  const items = await readdir(join(root, rel), { withFileTypes: true });
  const subdirs: Promise<void>[] = [];
  for (const d of items) {
    const p = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isDirectory()) subdirs.push(walk(root, p, out));
    else if (MODULE_FILE.test(d.name)) out.push(p);
  }
  await Promise.all(subdirs);
}

function moduleNameOf(file: string): string {
  return normalizeModuleName(file.slice(file.lastIndexOf('/') + 1).replace(MODULE_FILE, ''));
}

/** name -> file for every module under the root. Like depmod, "updates/" wins over "kernel/". */
export async function indexModules(modulesRoot: string): Promise<Map<string, string>> {
  const files: string[] = [];
  await walk(modulesRoot, '', files);
  files.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map<string, string>();
  for (const f of files) {
    const name = moduleNameOf(f);
    if (!index.has(name)) index.set(name, f);
  }
  return index;
}

function rank(file: string): number {
  return file.startsWith('updates/') ? 0 : 1;
}

/** Names listed in modules.builtin ("kernel/fs/ext4/ext4.ko" lines); empty when the file is absent. */
export async function builtinModules(modulesRoot: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(join(modulesRoot, 'modules.builtin'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw err;
  }
  return new Set(text.split('\n').filter((l) => l.trim() !== '').map((l) => moduleNameOf(l.trim())));
}

/**
 * The modules of one modules root, indexed once: closures for several name sets (e.g. probing which
 * default drivers exist, then the final set) share one directory walk and one read of each .modinfo.
 */
export class ModuleSet {
  private readonly infos = new Map<string, Promise<string[]>>();

  private constructor(
    readonly modulesRoot: string,
    private readonly index: Map<string, string>,
    private readonly builtin: Set<string>,
  ) {}

  static async open(modulesRoot: string): Promise<ModuleSet> {
    const [index, builtin] = await Promise.all([indexModules(modulesRoot), builtinModules(modulesRoot)]);
    return new ModuleSet(modulesRoot, index, builtin);
  }

  /** The depends= of a module file, read once. */
  private depends(file: string): Promise<string[]> {
    let p = this.infos.get(file);
    if (!p) {
      const path = join(this.modulesRoot, file);
      p = readFile(path).then((bytes) => readModinfo(bytes, path).depends);
      this.infos.set(file, p);
    }
    return p;
  }

  /** See moduleClosure(). */
  async closure(names: readonly string[]): Promise<ModuleInfo[]> {
    const { index, builtin, modulesRoot } = this;
    const out: ModuleInfo[] = [];
    const done = new Set<string>();
    const stack: string[] = [];
    const visit = async (raw: string, requiredBy?: string): Promise<void> => {
      const name = normalizeModuleName(raw);
      if (done.has(name) || builtin.has(name)) return;
      if (stack.includes(name)) throw new ModuleCycleError({ cycle: [...stack.slice(stack.indexOf(name)), name] });
      const file = index.get(name);
      if (file === undefined) throw new UnknownModuleError({ module: raw, requiredBy, modulesRoot });
      const depends = await this.depends(file);
      stack.push(name);
      for (const dep of depends) await visit(dep, name);
      stack.pop();
      done.add(name);
      out.push({ name, file, depends: [...depends] });
    };
    for (const n of names) await visit(n);
    return out;
  }
}

/**
 * The modules `names` need, dependencies first, each once. Order is deterministic: requested names
 * in the order given, each preceded by its depends= (in listed order, depth first). Built-in modules
 * are skipped silently; a name that is neither a file nor built in throws E_UNKNOWN_MODULE.
 */
export async function moduleClosure(modulesRoot: string, names: readonly string[]): Promise<ModuleInfo[]> {
  return (await ModuleSet.open(modulesRoot)).closure(names);
}
