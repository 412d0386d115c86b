/**
 * The Hono environment shared by the app and its route modules: per-request variables.
 * Portable.
 */
import type { Dialect } from './dialect.ts'
import type { Language } from '../i18n.ts'
import type { Credentials, UserIdentity } from '../domain/caller.ts'

export interface AppEnv {
  Variables: {
    requestId: string
    lang: Language
    dialect: Dialect
    /** Set on async-query routes once the caller is verified. */
    identity: UserIdentity
    credentials: Credentials
  }
}
