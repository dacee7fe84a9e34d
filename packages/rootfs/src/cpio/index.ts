// cpio newc (initramfs) writer: plan from metadata, then stream.
import type { Entry, FileTree } from '../tree.js';
import { emitCpio, type EmitOptions } from './emit.js';
import { planCpio, type CpioOptions } from './plan.js';

export * from './newc.js';
export * from './plan.js';
export * from './emit.js';

/** Plans and streams `tree` as one newc archive (planCpio + emitCpio). */
export function cpioStream(tree: FileTree | readonly Entry[], opts: CpioOptions & EmitOptions = {}): AsyncGenerator<Uint8Array> {
  return emitCpio(planCpio(tree, opts), opts);
}
