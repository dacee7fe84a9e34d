export { treeFromDirectory, devMajor, devMinor, type DirectoryImportOptions } from './directory.js';
export { treeFromTar, type TarImportOptions } from './tar.js';
export { ImportError } from './errors.js';
