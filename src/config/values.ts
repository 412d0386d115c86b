/**
 * The kinds of value settings take (whole numbers, durations, URLs), shared by every settings
 * table. Portable.
 */
import { z } from 'zod'

export const integer = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max)

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** `7d`, `12h`, `30m`, `90s`, `500ms`; a bare number is milliseconds. */
export function toMilliseconds(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text)
  return Number(match?.[1]) * UNIT_MS[(match?.[2] ?? 'ms') as keyof typeof UNIT_MS]
}

export const upstreamUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  // fetch refuses a URL with credentials, and the gateway calls Kylin with each caller's own.
  .refine((url) => {
    const { username, password } = new URL(url)
    return username === '' && password === ''
  }, "must not carry a user or password (user:password@): the gateway calls Kylin with each caller's own credentials")
  .transform((url) => url.replace(/\/+$/, ''))

/** An http(s) base URL without user, query or fragment, kept without its trailing slash. */
export const publicUrl = z.union([
  z.literal(''),
  z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .refine((url) => {
      // Checked before this runs; zod still calls it on a value that failed.
      if (!URL.canParse(url)) return true
      const { username, password, search, hash } = new URL(url)
      return username === '' && password === '' && search === '' && hash === ''
    }, 'must be a base URL, without user:password@, ?query or #fragment')
    .transform((url) => url.replace(/\/+$/, '')),
])

/** One row of a settings table. */
export interface Setting {
  flag: string
  schema: z.ZodType
  default: string | undefined
  help: string
}

/** The parsed value of every setting of a table. */
export type SettingValues<T extends Record<string, Setting>> = {
  [K in keyof T]: z.output<T[K]['schema']>
}
