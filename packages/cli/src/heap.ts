// V8 tuning for `mkimage fs` (never applied by the library: an embedding tool owns its process's
// flags). Not for the app build: on the hello image it costs ~30 ms (4%) in extra GC work.
import { setFlagsFromString } from 'node:v8';

/**
 * Keeps V8's young generation at its start size. A build holds metadata for every file of the
 * tree (100,000 entries for a big one); V8 would grow the young generation to two 16 MiB
 * semi-spaces while that metadata is allocated, a fifth of the peak RSS of `mkimage fs` on a
 * 100k-file tree (issue 4: under 150 MB), without building any faster (bench/ext4.bench.mjs).
 * The growth factor is read at each growth, so unlike --max-semi-space-size it takes effect
 * when set at run time.
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
