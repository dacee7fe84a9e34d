export * from './tree.js';
export {
  planCpio, emitCpio, cpioStream, clampMtime, encodeNewc, decodeNewc, headerBlockSize, CpioFormatError, CpioInternalError,
  CPIO_NEWC_MAGIC, CPIO_TRAILER_NAME, CPIO_HEADER_SIZE, NEWC_FIELDS,
  type CpioOptions, type CpioLayout, type CpioRecord, type EmitOptions, type NewcHeader, type NewcField,
} from './cpio/index.js';
export { compressInitramfs, gzipParallel, hasZstd, CompressError, COMPRESSIONS, type Compression, type CompressOptions, type GzipOptions } from './compress/index.js';
export { treeFromDirectory, treeFromTar, ImportError, type DirectoryImportOptions, type TarImportOptions } from './import/index.js';
export { writeAtomically, atomicDirectory, OutputError, type WriteOptions, type WriteResult } from './output.js';
export * from './ext4/index.js';
export { evalWorker } from './eval-worker.js';
export {
  defineStruct, lo32, hi32, asciiField, StructError,
  type Struct, type StructField, type StructValues, type StructOptions, type FieldType, type CustomFieldType,
} from './struct.js';
