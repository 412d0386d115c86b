/**
 * Result reuse (opt in, `reuse_max_age`): a submit answered with the same user's earlier
 * SUCCESSFUL result of the same query and output options, found through the registry's index
 * by a hash, never by scanning. Portable. Never across users: Kylin's ACLs decide who reads what.
 */
import type { AppDeps } from '../deps.ts'
import { toResultKey } from '../domain/query-id.ts'
import type { QueryRecord, ResultOptions, UpstreamQuery } from '../domain/query.ts'
import { sha256Hex } from '../sha256.ts'
import { normaliseSqlWhitespace } from './sql-whitespace.ts'

/** The longest `reuse_max_age` a submit may ask for, in seconds (30 days). */
export const MAX_REUSE_AGE_SECONDS = 30 * 24 * 3600

/**
 * The key two submits share when one may answer the other: the owner, the query (SQL with its
 * whitespace normalised) and every option that shapes the result's bytes, defaults spelled out.
 */
export function toReuseKey(
  owner: string,
  query: UpstreamQuery,
  options: ResultOptions,
  upstream?: string,
): Promise<string> {
  return sha256Hex(
    JSON.stringify([
      'reuse-v1',
      // Several upstreams: a result of the Kylin a project has moved away from is not reused.
      ...(upstream !== undefined ? [upstream] : []),
      owner,
      query.project,
      normaliseSqlWhitespace(query.sql),
      query.offset,
      query.limit,
      query.acceptPartial,
      options.separator,
      options.includeHeader,
      options.fileName,
      options.format ?? 'csv',
      options.encode ?? 'utf-8',
    ]),
  )
}

/**
 * The result to answer with, or `null`: SUCCESSFUL, the owner's, finished no longer than
 * `maxAgeSeconds` ago, and its file still in the store at the size recorded.
 */
export async function findReusableResult(
  deps: Pick<AppDeps, 'registry' | 'store' | 'now'>,
  owner: string,
  reuseKey: string,
  maxAgeSeconds: number,
): Promise<QueryRecord | null> {
  // Only the owner's SUCCESSFUL result of this key (registry/reusable.ts): left is its age and file.
  const record = await deps.registry.findReusable(owner, reuseKey)
  if (!record) return null
  const finishedAt = record.finishedAt ?? record.updatedAt
  if (deps.now() - finishedAt > maxAgeSeconds * 1000) return null
  const blob = await deps.store.head(toResultKey(record.id))
  return blob && blob.size === record.bytes ? record : null
}
