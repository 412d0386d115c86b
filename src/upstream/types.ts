/**
 * The upstream Kylin client contract: the sync query call and the identity check.
 * Portable: implementations receive `fetch`; Node passes undici's, Workers the global one.
 */
import type { Credentials, UserIdentity } from '../domain/caller.ts'
import type { UpstreamQuery } from '../domain/query.ts'

export interface KylinClient {
  /**
   * `POST {upstream}/kylin/api/query`. Resolves once a 2xx status and headers have arrived,
   * with the body still unread. Rejects with an `UpstreamError` whose message a person can act
   * on (Kylin's own message for SQL errors, the HTTP status, the network failure, the timeout).
   */
  query(
    query: UpstreamQuery,
    credentials: Credentials,
    signal?: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>>
  /**
   * `GET {upstream}/kylin/api/user/authentication`. Resolves `null` when the upstream rejects
   * the credentials (401/403); rejects with an `UpstreamError` when it cannot be asked.
   */
  authenticate(credentials: Credentials, signal?: AbortSignal): Promise<UserIdentity | null>
}
