/**
 * A few byte buffers of one size, kept for reuse between the exports and downloads of this
 * process: a buffer left behind instead is freed only when V8 next collects, and a gateway that
 * streams much and allocates little on the JS heap collects rarely, so such buffers piled up by
 * the tens of MiB (README, Performance). Whoever gives a buffer back must not touch it again.
 * Hand-written for that measured need. Portable.
 */
export class BufferPool {
  private readonly free: Uint8Array<ArrayBuffer>[] = []

  /** `size`: bytes of each buffer; `keep`: buffers held at most, more given back are dropped. */
  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  /** A buffer of `size` bytes, with whatever it held before. */
  take(): Uint8Array<ArrayBuffer> {
    return this.free.pop() ?? new Uint8Array(this.size)
  }

  /** Takes back a buffer `take` answered (any view of it); one of another size is ignored. */
  give(buffer: Uint8Array): void {
    const whole = buffer.buffer
    if (!(whole instanceof ArrayBuffer) || whole.byteLength !== this.size) return
    if (this.free.length < this.keep) this.free.push(new Uint8Array(whole))
  }
}
