// `mkimage run`: boot an image in QEMU the right way for its kind (see run.ts).
export { runImage, type RunImageOptions, type RunImageResult, type RunStartInfo } from './run.js';
export { detectImage, KERNEL_DIR_FILES, type RunnableImage } from './image.js';
export { composeEnv, dotenvQuote, dotenvLines, parseEnvArg, unterminatedQuoteLine } from './env.js';
export { parsePortArg, checkPortsFree, DEFAULT_HOST_ADDR } from './ports.js';
export { parseMemory, parseCpus } from './options.js';
export { guestEnd, shellStatus, type GuestEnd } from './exit.js';
export { runQemuOptions, type RunPlanInput } from './plan.js';
export * from './errors.js';
