/**
 * Settings: what one request may carry and how it is vouched for, logged and measured.
 * Portable: part of the table that drives the schema, the CLI flags and `--help`.
 */
import { z } from 'zod'
import { integer } from './values.ts'

export const REQUEST_SETTINGS = {
  AUTH_CACHE_TTL_MS: {
    flag: 'auth-cache-ttl-ms',
    schema: integer(0),
    default: '30000',
    help: 'How long a verified credential is trusted before the upstream is asked again',
  },
  MAX_BODY_BYTES: {
    flag: 'max-body-bytes',
    schema: integer(1),
    default: String(1024 * 1024),
    help: 'Largest accepted async query request body',
  },
  LOG_LEVEL: {
    flag: 'log-level',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    help: 'pino log level',
  },
  METRICS_TOKEN: {
    flag: 'metrics-token',
    schema: z.string(),
    default: '',
    help: 'When set, GET /metrics (Node) requires Authorization: Bearer <token>; prefer the variable, flags show in ps',
  },
} as const
