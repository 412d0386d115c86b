/**
 * Settings: several instances sharing one Redis: registry, key prefix, leases.
 * Portable: part of the table that drives the schema, the CLI flags and `--help`.
 */
import { z } from 'zod'
import { ConfigError } from '../errors.ts'
import { integer, type SettingValues } from './values.ts'

export const CLUSTER_SETTINGS = {
  REGISTRY: {
    flag: 'registry',
    schema: z.enum(['memory', 'redis']),
    default: 'memory',
    help: 'Where query records, slots and the queue live: memory (one instance) or redis (shared by several, REDIS_URL; Node only)',
  },
  REDIS_URL: {
    flag: 'redis-url',
    schema: z.union([
      z.literal(''),
      z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }),
    ]),
    default: '',
    help: 'Redis of REGISTRY=redis, e.g. redis://:password@redis:6379/0 (required with it); prefer the variable, flags show in ps',
  },
  REDIS_KEY_PREFIX: {
    flag: 'redis-key-prefix',
    schema: z.string().min(1).max(100),
    default: 'kag:',
    help: 'Put before every Redis key and channel, so several gateway clusters can share one Redis',
  },
  CLUSTER_LEASE_MS: {
    flag: 'cluster-lease-ms',
    schema: integer(300, 3_600_000),
    default: '15000',
    help: 'With REGISTRY=redis: how long the queries, slots and queue places of an instance that stopped stay claimed before others take them over',
  },
} as const

export interface RedisSettings {
  /** May carry a password: never log it as is. */
  url: string
  keyPrefix: string
  /** Lease of a running query, a slot or a queue place; renewed well before it lapses. */
  leaseMs: number
}

/** The Redis settings, or a one-line error naming what REGISTRY=redis is missing. */
export function toRedisSettings(c: SettingValues<typeof CLUSTER_SETTINGS>): RedisSettings {
  if (c.REDIS_URL === '') {
    throw new ConfigError('REDIS_URL (--redis-url) is required with REGISTRY=redis')
  }
  return { url: c.REDIS_URL, keyPrefix: c.REDIS_KEY_PREFIX, leaseMs: c.CLUSTER_LEASE_MS }
}
