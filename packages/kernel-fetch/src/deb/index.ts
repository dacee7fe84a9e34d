// Reading and unpacking Debian binary packages (.deb), streaming.
export { readDebEntries, readDebControl, debTarMembers, DEB_FORMAT_VERSION, type DebTarMember } from './deb.js';
export { extractDeb, type ExtractOptions, type ExtractResult, type SkippedEntry } from './extract.js';
export type { DebEntry, DebEntryType } from './tar.js';
export type { DebControl } from './control.js';
export { parseControl } from './control.js';
export { readAr, encodeAr, encodeArHeader, decodeArHeader, ARMAG, ARFMAG, AR_HEADER_SIZE, AR_HEADER_FIELDS, type ArHeader, type ArMember } from './ar.js';
export { normalizeDebPath } from './paths.js';
export { DebFormatError, DebUnsafePathError, DebExtractError, type DebErrorData } from './errors.js';
