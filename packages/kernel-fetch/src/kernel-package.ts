// The kernel: Debian's flavour metapackage (linux-image-cloud-amd64) depends on exactly one versioned
// image package, linux-image-<abi>-cloud-amd64, whose files we want.
import type { Archive, ResolvedPackage } from './archive.js';
import { NotFoundError } from './errors.js';
import { parseRelations } from './relation.js';

export interface KernelResolution {
  /** The metapackage that was looked up, e.g. linux-image-cloud-amd64 6.1.140-1. */
  metapackage: ResolvedPackage;
  /** The versioned image package, e.g. linux-image-6.1.0-37-cloud-amd64. */
  package: ResolvedPackage;
  version: string;
  /** The kernel release (`uname -r`), e.g. 6.1.0-37-cloud-amd64: the /lib/modules/<release> name. */
  release: string;
}

/** Resolves `linux-image-<flavour>` to its versioned image package. */
export async function resolveKernel(archive: Archive, opts: { flavour?: string } = {}): Promise<KernelResolution> {
  const flavour = opts.flavour ?? 'cloud-amd64';
  const metaName = `linux-image-${flavour}`;
  const [meta] = await archive.resolve([metaName]);
  if (!meta) throw new NotFoundError(`package ${metaName} not found`, { package: metaName });
  const suffix = `-${flavour}`;
  const image = parseRelations(meta.depends)
    .flat()
    .find((a) => a.name.startsWith('linux-image-') && a.name.endsWith(suffix) && a.name !== metaName && !a.name.endsWith(`-unsigned`));
  if (!image) {
    throw new NotFoundError(`${metaName} ${meta.version} does not depend on a linux-image-<abi>${suffix} package (Depends: ${meta.depends ?? 'none'})`, {
      package: metaName,
    });
  }
  const want = image.op === '=' && image.version ? `${image.name}=${image.version}` : image.name;
  const [pkg] = await archive.resolve([want]);
  if (!pkg) throw new NotFoundError(`package ${image.name} not found`, { package: image.name });
  return { metapackage: meta, package: pkg, version: pkg.version, release: image.name.slice('linux-image-'.length) };
}
