// A worker thread running CommonJS source text (`eval: true`): no separate file to locate once a
// package is installed. Shared by the deflate pool here and @mkimage/disk's image hash.
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The process's node options for a worker, less --input-type: a worker inherits them, and with
 * `--input-type=module` (node -e with imports) it would read its CommonJS source as ESM and fail.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i]!;
    if (a === '--input-type') i++; // the value follows
    else if (!a.startsWith('--input-type=')) out.push(a);
  }
  return out;
}

/**
 * Names a function's source text may use once a compiler has been through it: tsx (the tests)
 * compiles with keepNames, which wraps nested functions in __name(...), and esbuild's bundle (the
 * mkimage command) turns require(...) into __require(...).
 */
export const WORKER_PRELUDE = 'const __name = (f) => f;\nconst __require = require;\n';

/** Starts `source` (CommonJS) on a worker thread. */
export function evalWorker(source: string, options: Omit<WorkerOptions, 'eval' | 'execArgv'> = {}): Worker {
  return new Worker(WORKER_PRELUDE + source, { ...options, eval: true, execArgv: workerExecArgv() });
}
