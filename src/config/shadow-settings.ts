/**
 * Settings: shadow runs, each sampled query run a second time on a new cluster and compared.
 * Portable: part of the table that drives the schema, the CLI flags and `--help`.
 */
import { z } from 'zod'
import { integer, upstreamUrl, type SettingValues } from './values.ts'

export const SHADOW_SETTINGS = {
  KYLIN_SHADOW_URL: {
    flag: 'shadow-url',
    schema: z.union([z.literal(''), upstreamUrl]),
    default: '',
    help: 'Base URL of a new Kylin that runs each sampled query again after the primary run, with the same credentials; the results are compared by hash and the verdict shown in status and metadata (nothing of it is served); empty: no shadow runs',
  },
  SHADOW_SAMPLE: {
    flag: 'shadow-sample',
    schema: z.coerce
      .number({ error: 'must be a number from 0 to 1' })
      .min(0, 'must be a number from 0 to 1')
      .max(1, 'must be a number from 0 to 1'),
    default: '1',
    help: 'The share of queries shadowed, 0 to 1 (0.1: one in ten, drawn at submit)',
  },
  SHADOW_PROJECTS: {
    flag: 'shadow-projects',
    schema: z
      .string()
      .transform((text) =>
        text
          .split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry !== ''),
      )
      .pipe(z.array(z.string().max(256)).max(1000)),
    default: '',
    help: 'Comma-separated projects whose queries are shadowed (the ones moving to the new cluster); empty: every project',
  },
  SHADOW_MAX_CONCURRENT: {
    flag: 'shadow-max-concurrent',
    schema: integer(1, 100),
    default: '2',
    help: 'Shadow runs at once per instance (Workers: per query object, which runs one); more wait in a queue',
  },
  SHADOW_MAX_QUEUED: {
    flag: 'shadow-max-queued',
    schema: integer(0, 100_000),
    default: '100',
    help: 'Shadow runs waiting for a slot at most; past it a shadow run is skipped (status SKIPPED) and never delays a query',
  },
} as const

export interface ShadowSettings {
  /** Without a trailing slash. */
  url: string
  sample: number
  /** Only these projects' queries; empty: every project's. */
  projects: string[]
  maxConcurrent: number
  maxQueued: number
}

export function toShadowSettings(
  values: SettingValues<typeof SHADOW_SETTINGS>,
): ShadowSettings | undefined {
  if (values.KYLIN_SHADOW_URL === '') return undefined
  return {
    url: values.KYLIN_SHADOW_URL,
    sample: values.SHADOW_SAMPLE,
    projects: values.SHADOW_PROJECTS,
    maxConcurrent: values.SHADOW_MAX_CONCURRENT,
    maxQueued: values.SHADOW_MAX_QUEUED,
  }
}
