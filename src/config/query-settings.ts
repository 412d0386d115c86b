/**
 * Settings: how many queries run and wait, how long they and their results last, how large they grow.
 * Portable: part of the table that drives the schema, the CLI flags and `--help`.
 */
import { z } from 'zod'
import { integer, toMilliseconds } from './values.ts'

export const QUERY_SETTINGS = {
  MAX_CONCURRENT_QUERIES: {
    flag: 'max-concurrent-queries',
    schema: integer(1, 1000),
    default: '4',
    help: 'Upstream queries running at once; more wait in a queue and stay RUNNING',
  },
  MAX_CONCURRENT_PER_USER: {
    flag: 'max-concurrent-per-user',
    schema: integer(0, 1000),
    default: '0',
    help: 'Upstream queries one user may run at once; 0 means one fewer than MAX_CONCURRENT_QUERIES (at least 1)',
  },
  MAX_QUEUED_QUERIES: {
    flag: 'max-queued-queries',
    schema: integer(0),
    default: '1000',
    help: 'Queries waiting for a slot at most; past it a submit answers 429 with Retry-After',
  },
  MAX_RESULT_BYTES: {
    flag: 'max-result-bytes',
    schema: integer(1),
    default: String(50 * 1024 ** 3),
    help: 'Largest CSV result kept; a larger one ends FAILED',
  },
  CSV_KERNEL: {
    flag: 'csv-kernel',
    schema: z.enum(['wasm', 'js']),
    default: 'wasm',
    help: 'Node: the fast path of the Kylin JSON → CSV kernel, WebAssembly SIMD or JavaScript (the same bytes; Workers take js)',
  },
  EXPORT_THREADS: {
    flag: 'export-threads',
    schema: integer(0, 64),
    default: '1',
    help: 'Node: exports that run at once on threads of their own, each with a capped heap (an export past it ends FAILED, the process unharmed); more run on the main thread; 0 runs every export there',
  },
  EXPORT_THREAD_HEAP_MB: {
    flag: 'export-thread-heap-mb',
    schema: integer(32, 4096),
    default: '128',
    help: 'Node: the old-generation heap of one export thread, in MiB; an export that needs more ends FAILED',
  },
  SHUTDOWN_GRACE_MS: {
    flag: 'shutdown-grace-ms',
    schema: integer(0),
    default: '10000',
    help: 'On SIGTERM / SIGINT, how long running queries may finish before they are stopped',
  },
  RESULT_RETAIN: {
    flag: 'result-retain',
    schema: z
      .string()
      .regex(/^\d+(ms|s|m|h|d)?$/, 'must be a duration like 7d, 12h, 30m, 90s or 500ms')
      .transform(toMilliseconds)
      .pipe(z.number().int().min(1000, 'must be at least 1s')),
    default: '7d',
    help: 'How long finished results are kept (Kylin: 7d); older ones are deleted on a schedule',
  },
  MAX_QUERIES: {
    flag: 'max-queries',
    schema: integer(1),
    default: '10000',
    help: 'Query records kept in the registry; the least recently used finished ones go first (more than MAX_CONCURRENT_QUERIES + MAX_QUEUED_QUERIES)',
  },
  UPSTREAM_TIMEOUT_MS: {
    flag: 'upstream-timeout-ms',
    schema: integer(1),
    default: String(30 * 60 * 1000),
    help: 'Longest an upstream query may take, from request to last byte',
  },
} as const
