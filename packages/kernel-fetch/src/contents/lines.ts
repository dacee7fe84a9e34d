// Splits a byte stream into lines without holding more than one partial line between chunks.

/** Yields each line's bytes (without "\n"); a final line without "\n" is yielded too. */
export async function* splitLines(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let carry: Buffer | undefined;
  for await (const chunk of input) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      const piece = buf.subarray(start, nl);
      if (carry) {
        yield Buffer.concat([carry, piece]);
        carry = undefined;
      } else {
        yield piece;
      }
      start = nl + 1;
    }
    if (start < buf.length) carry = carry ? Buffer.concat([carry, buf.subarray(start)]) : Buffer.from(buf.subarray(start));
  }
  if (carry && carry.length > 0) yield carry;
}
