/**
 * Every setting in one table, in the order `--help` lists them: the tables of each concern
 * joined. Portable.
 */
import { z } from 'zod'
import { CLUSTER_SETTINGS } from './cluster-settings.ts'
import { LINK_SETTINGS } from './link-settings.ts'
import { QUERY_SETTINGS } from './query-settings.ts'
import { REQUEST_SETTINGS } from './request-settings.ts'
import { SERVER_SETTINGS } from './server-settings.ts'
import { STORE_SETTINGS } from './store-settings.ts'
import { SHADOW_SETTINGS } from './shadow-settings.ts'
import { WEBHOOK_SETTINGS } from './webhook-settings.ts'

export const SETTINGS = {
  ...SERVER_SETTINGS,
  ...STORE_SETTINGS,
  ...QUERY_SETTINGS,
  ...REQUEST_SETTINGS,
  ...LINK_SETTINGS,
  ...CLUSTER_SETTINGS,
  ...WEBHOOK_SETTINGS,
  ...SHADOW_SETTINGS,
} as const

export type SettingName = keyof typeof SETTINGS

/** Settings whose value never appears in an error message (a URL may carry a password). */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set([
  'REDIS_URL',
  'LINK_SECRET',
  'LINK_SECRET_PREVIOUS',
  'WEBHOOK_SECRET',
])

const shape = Object.fromEntries(
  Object.entries(SETTINGS).map(([name, setting]) => [name, setting.schema]),
) as { [K in SettingName]: (typeof SETTINGS)[K]['schema'] }

export const settingsSchema = z.object(shape)

export function flagOf(name: string): string {
  return name in SETTINGS ? SETTINGS[name as SettingName].flag : name.toLowerCase()
}
