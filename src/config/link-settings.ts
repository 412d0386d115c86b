/**
 * Settings: signed links, which download a result without credentials until they expire.
 * Portable: part of the table that drives the schema, the CLI flags and `--help`.
 */
import { z } from 'zod'
import { ConfigError } from '../errors.ts'
import { toMilliseconds, type SettingValues } from './values.ts'

/** Shorter secrets are too easy to guess offline from one link's signature. */
const MIN_SECRET_LENGTH = 32

const secret = z
  .string()
  .refine(
    (text) => text === '' || text.length >= MIN_SECRET_LENGTH,
    `must be at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -base64 32)`,
  )

export const LINK_SETTINGS = {
  LINK_SECRET: {
    flag: 'link-secret',
    schema: secret,
    default: '',
    help: `Signs and checks signed links (POST …/{id}/link), at least ${MIN_SECRET_LENGTH} characters; links are off without it; prefer the variable, flags show in ps`,
  },
  LINK_SECRET_PREVIOUS: {
    flag: 'link-secret-previous',
    schema: secret,
    default: '',
    help: 'The LINK_SECRET before a rotation: links it signed keep working until they expire; it signs nothing',
  },
  LINK_MAX_TTL: {
    flag: 'link-max-ttl',
    schema: z
      .string()
      .regex(/^\d+(ms|s|m|h|d)?$/, 'must be a duration like 7d, 12h, 30m or 90s')
      .transform(toMilliseconds)
      .pipe(
        z
          .number()
          .int()
          .min(1000, 'must be at least 1s')
          .max(366 * 86_400_000, 'must be at most 366d'),
      ),
    default: '7d',
    help: 'Longest lifetime a signed link may be given (its `ttl`)',
  },
} as const

/** The link keys, and how long a link may live. */
export interface LinkSettings {
  /** Under `credentials`, a path the Node logger redacts, should a config object ever be logged. */
  credentials: {
    /** Signs new links and checks them. */
    secret: string
    /** Only checks: the secret before the last rotation. */
    previousSecret?: string
  }
  /** Whole seconds. */
  maxTtlSeconds: number
}

/** `undefined` when LINK_SECRET is unset: links are off. */
export function toLinkSettings(c: SettingValues<typeof LINK_SETTINGS>): LinkSettings | undefined {
  if (c.LINK_SECRET === '') {
    if (c.LINK_SECRET_PREVIOUS !== '') {
      throw new ConfigError(
        'LINK_SECRET_PREVIOUS (--link-secret-previous) is set without LINK_SECRET (--link-secret): set LINK_SECRET to sign links, or unset both to turn links off',
      )
    }
    return undefined
  }
  if (c.LINK_SECRET_PREVIOUS === c.LINK_SECRET) {
    throw new ConfigError(
      'LINK_SECRET_PREVIOUS (--link-secret-previous) is the same as LINK_SECRET (--link-secret): after a rotation it holds the old secret',
    )
  }
  return {
    credentials: {
      secret: c.LINK_SECRET,
      ...(c.LINK_SECRET_PREVIOUS !== '' ? { previousSecret: c.LINK_SECRET_PREVIOUS } : {}),
    },
    maxTtlSeconds: Math.floor(c.LINK_MAX_TTL / 1000),
  }
}
