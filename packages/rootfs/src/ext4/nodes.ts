// Column stores of the plan: the inodes to write (Nodes) and the physical runs of file data
// (DataRuns). A 100,000-file tree would otherwise hold 200,000 small objects (a node and a data
// region per file) through planning and emitting; as typed arrays they are a few MB that the
// garbage collector never traces (issue 4: peak RSS under 150 MB for a 100k-file tree).
import type { Entry, FileEntry } from '../tree.js';
import { EXT4_GOOD_OLD_FIRST_INO, EXT4_ROOT_INO } from './constants.js';
import type { XattrItem } from './xattr.js';

/** A logical block range of a file that holds data (holes are everything else). */
export interface LogicalRun { logical: number; count: number }

/**
 * One slot per inode, in allocation order: slot 0 is the root (inode 2), slot 1 lost+found (11),
 * slot k >= 1 inode 10 + k. Per-slot facts are size independent (no physical blocks yet).
 */
export class Nodes {
  /** The entry whose metadata the inode carries (for hard links: the link target). */
  readonly entry: Entry[] = [];
  readonly links: Uint16Array;
  /** Data blocks: directory blocks, file blocks with data, 1 for a slow symlink. */
  readonly dataBlocks: Float64Array;
  readonly xattrInBlock: Uint8Array;
  /** Sparse files: the logical runs that hold data. Absent: one run [0, dataBlocks) (see runsOf). */
  readonly runs = new Map<number, LogicalRun[]>();
  /** Directories: the encoded blocks in logical order (1 = linear, more = htree), checksums sealed. */
  readonly dirData = new Map<number, Uint8Array[]>();
  readonly xattrs = new Map<number, XattrItem[]>();

  constructor(capacity: number) {
    this.links = new Uint16Array(capacity);
    this.dataBlocks = new Float64Array(capacity);
    this.xattrInBlock = new Uint8Array(capacity);
  }

  get count(): number { return this.entry.length; }

  static slot(ino: number): number { return ino === EXT4_ROOT_INO ? 0 : ino - EXT4_GOOD_OLD_FIRST_INO + 1; }
  static ino(slot: number): number { return slot === 0 ? EXT4_ROOT_INO : slot + EXT4_GOOD_OLD_FIRST_INO - 1; }

  /** The logical runs holding data: `runs`, or one run from block 0 when that is left implicit. */
  runsOf(slot: number): LogicalRun[] {
    const n = this.dataBlocks[slot]!;
    return this.runs.get(slot) ?? (n > 0 ? [{ logical: 0, count: n }] : []);
  }
}

/** Physical runs of file data in ascending block order: run i is `count[i]` blocks at `start[i]`. */
export class DataRuns {
  length = 0;
  start: Float64Array;
  count: Float64Array;
  /** First logical block of the file the run holds. */
  logical: Float64Array;
  /** The file's slot in Nodes. */
  slot: Uint32Array;

  /** `capacity`: the expected number of runs (growing copies the columns; a good guess avoids it). */
  constructor(private readonly nodes: Nodes, capacity = 256) {
    const n = Math.max(16, capacity);
    this.start = new Float64Array(n);
    this.count = new Float64Array(n);
    this.logical = new Float64Array(n);
    this.slot = new Uint32Array(n);
  }

  push(start: number, count: number, slot: number, logical: number): void {
    if (this.length === this.start.length) this.resize(this.length * 2);
    const i = this.length++;
    this.start[i] = start;
    this.count[i] = count;
    this.logical[i] = logical;
    this.slot[i] = slot;
  }

  /** Drops the spare capacity once allocation is done (when it is worth a copy). */
  trim(): void { if (this.start.length - this.length > 4096) this.resize(this.length); }

  entry(i: number): FileEntry { return this.nodes.entry[this.slot[i]!] as FileEntry; }
  ino(i: number): number { return Nodes.ino(this.slot[i]!); }

  private resize(n: number): void {
    const grow = <T extends Float64Array | Uint32Array>(a: T, b: T): T => { b.set(a.subarray(0, this.length)); return b; };
    this.start = grow(this.start, new Float64Array(n));
    this.count = grow(this.count, new Float64Array(n));
    this.logical = grow(this.logical, new Float64Array(n));
    this.slot = grow(this.slot, new Uint32Array(n));
  }
}
