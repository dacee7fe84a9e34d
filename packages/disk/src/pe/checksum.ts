// The PE image checksum as ImageHlp's CheckSumMappedFile and binutils (bfd pe_compute_checksum)
// compute it: a 16-bit one's-complement-style sum of the file's little-endian words, with the
// CheckSum field counted as zero, carries folded back in, plus the file length.
// Fed in file order, chunk by chunk (chunks may have odd lengths).

export class PeChecksum {
  private sum = 0;
  private odd: number | undefined; // a pending low byte when a chunk ended mid-word
  private length = 0;

  update(c: Uint8Array): this {
    let i = 0;
    this.length += c.length;
    if (this.odd !== undefined && c.length) {
      this.add(this.odd | (c[0]! << 8));
      this.odd = undefined;
      i = 1;
    }
    for (; i + 1 < c.length; i += 2) this.add(c[i]! | (c[i + 1]! << 8));
    if (i < c.length) this.odd = c[i]!;
    return this;
  }

  /** Adds `n` zero bytes (padding) without touching the sum. */
  skipZeros(n: number): this {
    if (n <= 0) return this;
    if (this.odd !== undefined) { this.add(this.odd); this.odd = undefined; n -= 1; this.length += 1; }
    this.length += n;
    if (n % 2) this.odd = 0;
    return this;
  }

  private add(word: number): void {
    this.sum += word;
    this.sum = (this.sum & 0xffff) + (this.sum >>> 16);
  }

  /** The folded 16-bit sum of the words seen so far (a trailing odd byte counts as its own word). */
  partial(): number {
    let s = this.sum;
    if (this.odd !== undefined) { s += this.odd; s = (s & 0xffff) + (s >>> 16); }
    return (s & 0xffff) + (s >>> 16);
  }

  /** The CheckSum value: folded sum plus the file length. */
  digest(): number {
    return (this.partial() + this.length) >>> 0;
  }
}

/** Checksum of a whole image in memory; `checkSumOffset` is the file offset of the CheckSum field. */
export function peChecksum(image: Uint8Array, checkSumOffset: number): number {
  const copy = Uint8Array.from(image);
  copy.fill(0, checkSumOffset, checkSumOffset + 4);
  return new PeChecksum().update(copy).digest();
}
