/**
 * Live results: the bytes of the exports running in this process (or Durable Object), teed to
 * clients that follow them (`?follow=1`) through a bounded buffer each. Portable.
 * The runner opens one `LiveExport` per query; with nobody following it costs one check a chunk.
 */

/** The bounds of following. Each follower holds at most `bufferBytes` (plus one chunk). */
export interface FollowLimits {
  /** Bytes queued for one follower before the export waits for it. */
  bufferBytes: number
  /** How long the export waits for one follower whose buffer is full before cutting it off. */
  stallMs: number
  /**
   * How long one follower may hold the export back in all: a reader slower than the export, even
   * one that never stalls for `stallMs`, is cut off once it has cost the export this much.
   */
  maxHoldMs: number
  /** Followers of one query at once. */
  maxFollowers: number
  /**
   * A follower may join live while the export has written at most this many bytes (they are held
   * for it and replayed); later it waits for the end and reads the stored file.
   */
  joinBytes: number
  /** Exports tracked at once (running and queued queries of this process). */
  maxExports: number
}

export const FOLLOW_LIMITS: FollowLimits = {
  bufferBytes: 1024 * 1024,
  stallMs: 5_000,
  maxHoldMs: 30_000,
  maxFollowers: 8,
  joinBytes: 1024 * 1024,
  maxExports: 10_000,
}

/**
 * What a follower's stream errors with: a fixed text (the query's own failure, which may quote
 * its SQL, stays in its status). Its code is the one Node gives a stream closed before its end,
 * which @hono/node-server answers by destroying the socket, without writing an error text into
 * a body whose headers are gone.
 */
export class FollowAbortedError extends Error {
  readonly code = 'ERR_STREAM_PREMATURE_CLOSE'
  constructor(message = 'The followed query ended without a result, so the stream was aborted.') {
    super(message)
    this.name = 'FollowAbortedError'
  }
}

/** `follow`'s answer when a query already has `maxFollowers` followers. */
export const FOLLOWERS_FULL = 'followers-full'

/**
 * What following a query here gives: its bytes from the first as they are written (the stream
 * closes once the query is recorded SUCCESSFUL and errors if it fails, is stopped or deleted),
 * `FOLLOWERS_FULL`, or `null` when its bytes are not to be had here (it runs elsewhere, has
 * ended, or has written past `joinBytes`).
 */
export type FollowResult = ReadableStream<Uint8Array> | typeof FOLLOWERS_FULL | null

/** The runner's side of one export. */
export interface LiveExport {
  /** Whether `push` must see the chunks: someone follows, or may still join. */
  readonly wanted: boolean
  /**
   * Hands a chunk (already on its way to the store, never copied) to the followers. A promise
   * when a follower's buffer is full: the export waits for it, at most `stallMs` (and
   * `maxHoldMs` in all, per follower).
   */
  push(chunk: Uint8Array): Promise<void> | undefined
  /** The result is recorded SUCCESSFUL: every follower's stream ends cleanly. */
  end(): void
  /** The query failed, was stopped or deleted: every follower's stream errors. After `end`, nothing. */
  abort(reason: Error): void
}

export interface LiveResults {
  /** Starts tracking the export of query `id` (called when the query is handed to the runner). */
  open(id: string): LiveExport
  follow(id: string): FollowResult
  /** Exports tracked now. */
  readonly size: number
}

export function createLiveResults(limits: FollowLimits = FOLLOW_LIMITS): LiveResults {
  const exports = new Map<string, ExportTee>()
  return {
    open(id) {
      if (exports.size >= limits.maxExports && !exports.has(id)) return UNFOLLOWED
      const tee = new ExportTee(limits, () => {
        if (exports.get(id) === tee) exports.delete(id)
      })
      exports.get(id)?.abort(new FollowAbortedError())
      exports.set(id, tee)
      return tee
    },
    follow(id) {
      return exports.get(id)?.follow() ?? null
    },
    get size() {
      return exports.size
    },
  }
}

/** An export nobody can follow (past `maxExports`). */
const UNFOLLOWED: LiveExport = {
  wanted: false,
  push: () => undefined,
  end() {},
  abort() {},
}

class ExportTee implements LiveExport {
  /** The bytes written so far, while they are at most `joinBytes`; then `null`. */
  private head: Uint8Array[] | null = []
  private headBytes = 0
  private readonly followers = new Set<Follower>()
  private finished = false

  constructor(
    private readonly limits: FollowLimits,
    private readonly onFinish: () => void,
  ) {}

  get wanted(): boolean {
    return this.head !== null || this.followers.size > 0
  }

  follow(): FollowResult {
    if (this.finished || this.head === null) return null
    if (this.followers.size >= this.limits.maxFollowers) return FOLLOWERS_FULL
    const follower = new Follower(this.limits, () => this.followers.delete(follower))
    for (const chunk of this.head) follower.enqueue(chunk)
    this.followers.add(follower)
    return follower.stream
  }

  push(chunk: Uint8Array): Promise<void> | undefined {
    if (this.head) {
      this.headBytes += chunk.byteLength
      if (this.headBytes > this.limits.joinBytes) this.head = null
      else this.head.push(chunk)
    }
    if (this.followers.size === 0) return undefined
    let waits: Promise<void>[] | undefined
    for (const follower of this.followers) {
      const wait = follower.push(chunk)
      if (wait) (waits ??= []).push(wait)
    }
    return waits && Promise.all(waits).then(() => undefined)
  }

  end(): void {
    if (this.finish()) for (const follower of this.takeFollowers()) follower.close()
  }

  abort(reason: Error): void {
    if (this.finish()) for (const follower of this.takeFollowers()) follower.error(reason)
  }

  private finish(): boolean {
    if (this.finished) return false
    this.finished = true
    this.head = null
    this.onFinish()
    return true
  }

  private takeFollowers(): Follower[] {
    const followers = [...this.followers]
    this.followers.clear()
    return followers
  }
}

/** One follower: a stream whose queue is bounded by bytes; a full one makes the export wait. */
class Follower {
  readonly stream: ReadableStream<Uint8Array>
  private controller!: ReadableStreamDefaultController<Uint8Array>
  /** Resolves the export's wait on a full buffer. */
  private resume: (() => void) | undefined
  private open = true
  /** Milliseconds this follower has held the export back so far. */
  private heldMs = 0

  constructor(
    private readonly limits: FollowLimits,
    private readonly onLeave: () => void,
  ) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller
        },
        // Called when the reader has taken enough for the queue to fall below its bound.
        pull: () => this.wake(),
        cancel: () => {
          // The client went away: it no longer holds the export back.
          this.open = false
          this.onLeave()
          this.wake()
        },
      },
      { highWaterMark: limits.bufferBytes, size: (chunk) => chunk.byteLength },
    )
  }

  enqueue(chunk: Uint8Array): void {
    this.controller.enqueue(chunk)
  }

  push(chunk: Uint8Array): Promise<void> | undefined {
    if (!this.open) return undefined
    this.controller.enqueue(chunk)
    if ((this.controller.desiredSize ?? 0) > 0) return undefined
    const budget = Math.min(this.limits.stallMs, this.limits.maxHoldMs - this.heldMs)
    if (budget <= 0) {
      this.cutOff()
      return undefined
    }
    const started = Date.now()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.cutOff(), budget)
      this.resume = () => {
        clearTimeout(timer)
        this.heldMs += Date.now() - started
        resolve()
      }
    })
  }

  /** Too slow: an error (never a clean end) for this follower alone; the export goes on. */
  private cutOff(): void {
    this.error(
      new FollowAbortedError(
        `The client read the followed result too slowly (it held the export back ${this.limits.stallMs} ms at once or ${this.limits.maxHoldMs} ms in all), so it was cut off.`,
      ),
    )
    this.onLeave()
  }

  close(): void {
    if (!this.open) return
    this.open = false
    this.controller.close()
    this.wake()
  }

  error(reason: Error): void {
    if (!this.open) return
    this.open = false
    this.controller.error(reason)
    this.wake()
  }

  private wake(): void {
    const resume = this.resume
    this.resume = undefined
    resume?.()
  }
}
