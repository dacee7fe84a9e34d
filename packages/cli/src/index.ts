// @mkimage/cli: the programmatic API behind the `mkimage` command, for build tools that embed it.
export { build, IMAGE_JRE, IMAGE_APP_DIR } from './build/build.js';
export { BuildError } from './build/errors.js';
export {
  FORMATS, IMPLEMENTED_FORMATS, formatFromOutput, COMPRESSIONS, DEFAULT_MODULES, DEFAULT_KERNEL_PACKAGE, DEFAULT_SUITE, APP_USER, BASE_CMDLINE,
  type BuildOptions, type BuildResult, type BuildEvent, type BuildStep, type BuildPart, type Format, type Compression,
} from './build/options.js';
export { detectApp, type DetectedApp } from './app/index.js';
export * from './app/errors.js';
export { splitWords, shQuote } from './init/shell.js';
export { openDebianJdk, debianJdk, localJdk, type DebianJdk } from './runtime/jdk.js';
export { readCaCertificates, cacertsKeystore, pemBundle, CaCertError, type CaCertificate } from './runtime/cacerts.js';
export { encodeJks, decodeJks, JksError, type TrustedCertEntry } from './runtime/jks.js';
export * from './qemu/index.js';
export { runImage, detectImage, parseEnvArg, parsePortArg, type RunImageOptions, type RunImageResult, type RunStartInfo, type RunnableImage, ImageNotFoundError, ImageKindError, RunOptionError, PortInUseError, QemuRunError } from './run/index.js';
