// Member paths inside a .deb's tar: "./usr/bin/x" -> "usr/bin/x", "./" -> "" (the root).
// Anything that could name a place outside the destination is refused, never repaired.

/** Returns the normalised path, or a reason string when the path is unsafe. */
export function normalizeDebPath(name: string): string | { unsafe: string } {
  if (name.includes('\0')) return { unsafe: 'path contains a NUL byte' };
  if (name.startsWith('/')) return { unsafe: 'absolute path' };
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return { unsafe: 'path contains ".."' };
    parts.push(part);
  }
  return parts.join('/');
}

/** "a/b/c" -> "a/b"; "a" -> "". */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}
