// The block allocator: a cursor that hands out blocks in ascending order, stepping over the
// metadata ranges the geometry reserved. Because it never leaves a free block behind it, "in use"
// is simply: below the cursor, or reserved. That keeps bitmaps cheap to derive.
import type { Range } from './geometry.js';

export class NoSpace extends Error {}

export class Allocator {
  cursor = 0;
  private next = 0; // first reserved range that may lie at or after the cursor

  constructor(private readonly reserved: readonly Range[], private readonly limit: number) {}

  /** `count` blocks as ascending runs (several when they straddle metadata); NoSpace when full. */
  alloc(count: number): Range[] {
    const runs: Range[] = [];
    let left = count;
    while (left > 0) {
      const r = this.reserved[this.next];
      if (r && r.start <= this.cursor) {
        this.cursor = Math.max(this.cursor, r.start + r.count);
        this.next++;
        continue;
      }
      const end = r ? r.start : this.limit;
      const take = Math.min(left, end - this.cursor);
      if (take <= 0) throw new NoSpace();
      const last = runs[runs.length - 1];
      if (last && last.start + last.count === this.cursor) last.count += take;
      else runs.push({ start: this.cursor, count: take });
      this.cursor += take;
      left -= take;
    }
    return runs;
  }

  /** Blocks in use within [start, end): everything below the cursor plus reserved ranges. */
  usedIn(start: number, end: number): number {
    let used = Math.max(0, Math.min(end, this.cursor) - start);
    for (const r of this.reserved) {
      const s = Math.max(start, r.start, this.cursor);
      const e = Math.min(end, r.start + r.count);
      if (e > s) used += e - s;
    }
    return used;
  }

  isUsed(block: number): boolean {
    if (block < this.cursor) return true;
    return this.reserved.some((r) => block >= r.start && block < r.start + r.count);
  }
}
