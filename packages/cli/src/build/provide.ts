// Finds the Debian package that ships a shared library, through the archive's Contents index
// (verified like every index), and unpacks it. Used only for libraries the default packages lack.
import { libraryIndex, type Archive, type ResolvedPackage } from '@mkimage/kernel-fetch';

export function providerLookup(archive: Archive, suite: string, onAdd: (pkg: ResolvedPackage) => void): (soname: string) => Promise<string | undefined> {
  let index: Promise<Map<string, string[]>> | undefined;
  return async (soname) => {
    index ??= archive.openIndex(suite, 'main/Contents-amd64').then((stream) => libraryIndex(stream));
    const owners = (await index).get(soname);
    if (!owners?.length) return undefined;
    // Contents lists "section/package"; several packages may ship the same name (rare for sonames).
    const names = [...new Set(owners.map((o) => o.slice(o.lastIndexOf('/') + 1)))].sort();
    const [pkg] = await archive.resolve([names[0]!]);
    if (!pkg) return undefined;
    onAdd(pkg);
    return archive.unpack(pkg);
  };
}
