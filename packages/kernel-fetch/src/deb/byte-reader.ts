// Pull-style reading of exact byte counts from a chunked stream (the ar container is parsed forward
// without seeking, so a .deb can be read from a file or a download alike).

export class ShortReadError extends Error {
  constructor(readonly wanted: number, readonly got: number) {
    super(`unexpected end of data: wanted ${wanted} bytes, got ${got}`);
  }
}

export class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Uint8Array = new Uint8Array(0);
  private done = false;
  /** Bytes handed out so far: the offset of the next byte. */
  offset = 0;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.it = input[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (this.buf.length === 0 && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = r.value;
    }
    return this.buf.length > 0;
  }

  /** Up to `n` bytes (fewer only at end of input). */
  async read(n: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < n && (await this.fill())) {
      const take = Math.min(n - got, this.buf.length);
      parts.push(this.buf.subarray(0, take));
      this.buf = this.buf.subarray(take);
      got += take;
    }
    this.offset += got;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, got);
  }

  /** Exactly `n` bytes as they arrive; throws ShortReadError at a premature end. */
  async *stream(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill())) throw new ShortReadError(n, n - left);
      const take = Math.min(left, this.buf.length);
      const chunk = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      left -= take;
      this.offset += take;
      yield chunk;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n)) void _;
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}
