// Debian Contents-<arch> parsing: which package ships a path; soname -> package index.
export { parseContents, libraryIndex, isLibraryPath, type ContentsOptions } from './contents.js';
export { ContentsFormatError } from './errors.js';
export { splitLines } from './lines.js';
