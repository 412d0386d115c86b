/**
 * The Hono environment shared by the app and its route modules: per-request variables.
 * Portable.
 */
import type { Dialect } from './api/dialect.ts'
import type { Language } from './api/i18n.ts'
import type { Credentials, UserIdentity } from './upstream/types.ts'

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
