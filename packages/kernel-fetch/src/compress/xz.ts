// Streaming xz decoding over the xz-embedded wasm module (see xz-wasm.ts), every check verified: the
// path for data with no other integrity guarantee. Output leaves the wasm heap in chunks of at most
// BUF_SIZE, so memory is bounded whatever the compression ratio.
import { CompressInternalError, DecompressError } from './errors.js';
import { CTX, XZ_OK, XZ_RET_REASON, XZ_STREAM_END, xzWasm, type XzExports } from './xz-wasm.js';

/** Bytes of the wasm in and out buffers of a stream decoder. */
const BUF_SIZE = 64 * 1024;

export class XzDecoder {
  private readonly wasm: XzExports;
  private ctx: number;
  private readonly bufSize: number;
  private ended = false;
  private inputBytes = 0;

  constructor(private readonly what: string) {
    this.wasm = xzWasm();
    this.ctx = this.wasm.create_context(BUF_SIZE);
    if (this.ctx === 0) throw new CompressInternalError('xz wasm: out of memory creating a context');
    const w = this.words();
    this.bufSize = w[CTX.bufSize]!;
    // The ABI we rely on (glue.c's struct ctx): in and out buffers of bufSize bytes.
    if (this.bufSize !== BUF_SIZE || w[CTX.outSize] !== this.bufSize) {
      this.dispose();
      throw new CompressInternalError('xz wasm context layout is not the one this code was written for; rebuild it with wasm/build.sh');
    }
  }

  private words(): Uint32Array {
    return new Uint32Array(this.wasm.memory.buffer, this.ctx, 8);
  }

  /** Feeds compressed bytes; yields the decompressed chunks they complete (copies, safe to keep). */
  *push(input: Uint8Array): Generator<Uint8Array> {
    if (this.ctx === 0) throw new CompressInternalError('XzDecoder used after dispose');
    for (let off = 0; off < input.length; ) {
      if (this.ended) throw this.fail('data after the end of the xz stream');
      const n = Math.min(this.bufSize, input.length - off);
      const w = this.words();
      new Uint8Array(this.wasm.memory.buffer).set(input.subarray(off, off + n), w[CTX.inPtr]!);
      this.wasm.supply_input(this.ctx, n);
      off += n;
      this.inputBytes += n;
      yield* this.run(false);
    }
  }

  /** Signals the end of input; yields the remaining output, throws when the stream is incomplete. */
  *finish(): Generator<Uint8Array> {
    if (this.ended) return;
    if (this.inputBytes === 0) throw this.fail('empty input');
    this.wasm.supply_input(this.ctx, 0); // in_size == 0: xz_dec_catrun's `finish`
    yield* this.run(true);
    if (!this.ended) throw this.fail(XZ_RET_REASON[8]!);
  }

  private *run(finishing: boolean): Generator<Uint8Array> {
    for (;;) {
      const ret = this.wasm.get_next_output(this.ctx);
      const w = this.words(); // memory may have grown: fresh view after every call
      const outPos = w[CTX.outPos]!;
      const full = outPos === this.bufSize;
      if (outPos > 0) {
        const start = w[CTX.outPtr]!;
        const chunk = new Uint8Array(this.wasm.memory.buffer).slice(start, start + outPos);
        w[CTX.outPos] = 0;
        yield chunk;
      }
      if (ret === XZ_STREAM_END) {
        this.ended = true;
        return;
      }
      if (ret !== XZ_OK) throw this.fail(XZ_RET_REASON[ret] ?? `xz_ret ${ret}`);
      const w2 = this.words();
      if (w2[CTX.inPos] === w2[CTX.inSize] && !full) {
        if (finishing) throw this.fail(XZ_RET_REASON[8]!);
        return; // needs more input
      }
    }
  }

  private fail(reason: string): DecompressError {
    this.dispose();
    return new DecompressError({ what: this.what, format: 'xz', reason: `${reason}, after ${this.inputBytes} input bytes` });
  }

  dispose(): void {
    if (this.ctx !== 0) {
      this.wasm.destroy_context(this.ctx);
      this.ctx = 0;
    }
  }
}

/** Decodes a whole xz buffer at once (small inputs: a `.ko.xz` module). */
export function xzDecompressSync(input: Uint8Array, what: string): Uint8Array {
  const dec = new XzDecoder(what);
  try {
    const parts = [...dec.push(input), ...dec.finish()];
    return Buffer.concat(parts);
  } finally {
    dec.dispose();
  }
}

/** Streaming xz decoding; concatenated streams and stream padding are accepted (xz spec §2.2). */
export async function* xzDecompress(input: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  const dec = new XzDecoder(what);
  try {
    for await (const chunk of input) yield* dec.push(chunk);
    yield* dec.finish();
  } finally {
    dec.dispose();
  }
}
