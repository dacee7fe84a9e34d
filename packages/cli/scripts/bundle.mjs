// Bundles the `mkimage` command into dist/bundle/mkimage.js: one ES module for what every command
// needs, plus chunks loaded on demand (each subcommand, openpgp, tar-stream). Node loads ~150
// separate modules otherwise, and resolving, reading and compiling them took ~90 ms of a ~650 ms
// warm build. The library (dist/index.js) stays unbundled for tools that embed it.
//
// Run after `tsc -b`; it does nothing when the bundle is newer than every file it was made from.
// esbuild-wasm: esbuild compiled to WebAssembly (no native binary to build or download).
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(cliDir, 'dist', 'main.js');
const outdir = join(cliDir, 'dist', 'bundle');
const outfile = join(outdir, 'mkimage.js');
const inputsFile = join(outdir, 'inputs.json');

/** `new URL('../wasm/x.wasm', import.meta.url)`: a file beside a package's module, found from it. */
const ASSET_URL = /new URL\((['"])(\.{1,2}\/[^'"]*)\1, import\.meta\.url\)/g;

async function upToDate() {
  const built = await stat(outfile).catch(() => undefined);
  if (!built) return false;
  const inputs = JSON.parse(await readFile(inputsFile, 'utf8').catch(() => '[]'));
  if (inputs.length === 0) return false;
  for (const path of inputs) {
    const s = await stat(path).catch(() => undefined);
    if (!s || s.mtimeMs > built.mtimeMs) return false;
  }
  return true;
}

/**
 * The bundle lives elsewhere than the modules it is made of: re-aim each module's asset URLs from
 * the bundle's directory. The relative path holds in this workspace (packages/cli, packages/rootfs)
 * and in an install, where @mkimage/cli and the packages it depends on sit side by side under
 * node_modules/@mkimage/. Any other use of import.meta.url would silently point elsewhere, so it
 * stops the build.
 */
const rebaseAssetUrls = {
  name: 'rebase-asset-urls',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, async (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const contents = text.replace(ASSET_URL, (_, _quote, rel) => {
        const target = relative(outdir, resolve(dirname(args.path), rel)).split(sep).join('/');
        return `new URL(${JSON.stringify((target.startsWith('.') ? target : `./${target}`) + (rel.endsWith('/') ? '/' : ''))}, import.meta.url)`;
      });
      const left = contents.replace(/new URL\("[^"]*", import\.meta\.url\)/g, '').match(/import\.meta\.url/g);
      if (left) throw new Error(`${args.path}: import.meta.url used other than as new URL('./relative', import.meta.url); the bundle cannot keep it`);
      return { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

if (await upToDate()) process.exit(0);
const { build } = await import('esbuild-wasm');
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints: { mkimage: entry },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  chunkNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
  plugins: [rebaseAssetUrls],
  // CommonJS dependencies (tar-stream, streamx) call require() for node's own modules.
  banner: { js: "import { createRequire as __mkimageCreateRequire } from 'node:module';\nconst require = __mkimageCreateRequire(import.meta.url);" },
});
// This script counts as an input too: a change to how the bundle is made remakes it.
const inputs = [fileURLToPath(import.meta.url), ...Object.keys(result.metafile.inputs).map((p) => resolve(p))];
await writeFile(inputsFile, JSON.stringify(inputs));
