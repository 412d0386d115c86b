/**
 * Readiness (/readyz): the upstream answers HTTP at all, and the store takes a write. Portable.
 * Each check is bounded by a timeout; a report is reused briefly so a flood never reaches Kylin.
 * With several upstreams (KYLIN_UPSTREAMS) each is checked and shown; the default decides.
 */
import { toRedactedUrl } from '../redact-url.ts'
import type { BlobStore } from '../store/types.ts'

/** An empty blob, written and deleted again; not a query key, so no rebuild or listing uses it. */
export const READINESS_PROBE_KEY = '_readyz-probe'

export interface ReadinessOptions {
  /** The default upstream's base URL. */
  upstreamUrl: string
  /**
   * Every upstream by name, the default first (KYLIN_UPSTREAMS); with more than one, each is
   * checked and reported under `checks.upstreams`. Only the default's failure makes the gateway
   * not ready: the projects of another still go nowhere else, and the rest still work.
   */
  upstreams?: readonly { name: string; url: string }[]
  fetch: typeof fetch
  store: BlobStore
  /** Milliseconds since the epoch, for the cache. */
  now: () => number
  /** Each check gives up after this long (default 2 s). */
  timeoutMs?: number
  /** How long a report is reused (default 5 s). */
  cacheMs?: number
}

export interface CheckResult {
  ok: boolean
  ms: number
  /** What the upstream answered (any HTTP status counts as reachable). */
  status?: number
  /** Why the check failed. */
  error?: string
}

export interface UpstreamCheckResult extends CheckResult {
  /** The upstream of every project KYLIN_UPSTREAMS does not name. */
  default: boolean
}

export interface ReadinessReport {
  ready: boolean
  checks: {
    /** The default upstream. */
    upstream: CheckResult
    store: CheckResult
    /** Each upstream by name (its host), when there are several. */
    upstreams?: Record<string, UpstreamCheckResult>
  }
}

export interface ReadinessCheck {
  check(): Promise<ReadinessReport>
}

export function createReadinessCheck(options: ReadinessOptions): ReadinessCheck {
  const timeoutMs = options.timeoutMs ?? 2000
  const cacheMs = options.cacheMs ?? 5000
  // The promise is cached, so concurrent probes share one round of checks.
  let cached: { at: number; report: Promise<ReadinessReport> } | undefined

  async function checkUpstream(baseUrl: string): Promise<CheckResult> {
    // Without credentials Kylin answers 401 at once: proof it is up, at no cost to it.
    const url = `${baseUrl}/kylin/api/user/authentication`
    return timed(async (signal) => {
      const response = await options.fetch(url, { method: 'GET', redirect: 'manual', signal })
      await response.body?.cancel().catch(() => {})
      return { status: response.status }
    }, timeoutMs)
  }

  async function checkStore(): Promise<CheckResult> {
    return timed(async (signal) => {
      await probeStore(options.store, signal)
      return {}
    }, timeoutMs)
  }

  async function run(): Promise<ReadinessReport> {
    const others = options.upstreams && options.upstreams.length > 1 ? options.upstreams : []
    const [upstream, store, ...each] = await Promise.all([
      checkUpstream(options.upstreamUrl),
      checkStore(),
      ...others.slice(1).map((target) => checkUpstream(target.url)),
    ])
    const ready = upstream.ok && store.ok
    if (others.length === 0) return { ready, checks: { upstream, store } }
    const upstreams: Record<string, UpstreamCheckResult> = {}
    others.forEach((target, index) => {
      const result = index === 0 ? upstream : each[index - 1]!
      upstreams[target.name] = { ...result, default: index === 0 }
    })
    return { ready, checks: { upstream, store, upstreams } }
  }

  return {
    check() {
      const now = options.now()
      if (!cached || now - cached.at >= cacheMs) cached = { at: now, report: run() }
      return cached.report
    },
  }
}

/** Whether the store takes a write: its own probe, or a probe blob written and deleted. */
export async function probeStore(store: BlobStore, signal?: AbortSignal): Promise<void> {
  if (store.probe) return store.probe(signal)
  const empty = new ReadableStream<Uint8Array>({ start: (c) => c.close() })
  await store.put(READINESS_PROBE_KEY, empty, { signal })
  await store.delete(READINESS_PROBE_KEY)
}

async function timed(
  work: (signal: AbortSignal) => Promise<{ status?: number }>,
  timeoutMs: number,
): Promise<CheckResult> {
  const started = performance.now()
  const signal = AbortSignal.timeout(timeoutMs)
  const elapsed = () => Math.round(performance.now() - started)
  try {
    // The race also bounds work that ignores the signal.
    const outcome = await Promise.race([
      work(signal),
      new Promise<never>((_, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      }),
    ])
    return { ok: true, ms: elapsed(), ...outcome }
  } catch (error) {
    const text = signal.aborted ? `no answer within ${timeoutMs} ms` : describeFailure(error)
    return { ok: false, ms: elapsed(), error: text }
  }
}

/** fetch hides the useful part (`ECONNREFUSED`) in its cause; credentials in a URL never show. */
function describeFailure(error: unknown): string {
  let current: unknown = error
  let message = ''
  for (let depth = 0; depth < 5 && current instanceof Object; depth++) {
    const {
      code,
      message: text,
      cause,
    } = current as {
      code?: unknown
      message?: unknown
      cause?: unknown
    }
    if (typeof code === 'string' && code) return code
    if (typeof text === 'string' && text && text !== 'fetch failed') message = text
    current = cause
  }
  // undici quotes the URL it refused, user:password included.
  return toRedactedUrl(message) || 'failed'
}
