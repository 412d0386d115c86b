/**
 * Idempotency-Key on submit: the same key and request from the same user get the same query, the
 * same key with another request a 409. Portable; the registry finds a key through its own index.
 */
import type { QueryRecord, ResultOptions, UpstreamQuery } from '../domain/query.ts'
import { GatewayError } from '../errors.ts'
import type { Registry } from '../registry/types.ts'
import { sha256Hex } from '../sha256.ts'

/** The query an earlier submit of this request made under `idempotency.key`, or `null`. */
export async function findEarlierSubmit(
  registry: Registry,
  owner: string,
  idempotency: { key: string; requestHash: string },
): Promise<QueryRecord | null> {
  const earlier = await registry.findByIdempotencyKey(owner, idempotency.key)
  if (!earlier) return null
  if (earlier.idempotency?.requestHash === idempotency.requestHash) return earlier
  throw new GatewayError(409, { id: 'IDEMPOTENCY_CONFLICT' })
}

/**
 * What makes two submits the same request: the query and how its result is written. CSV is
 * hashed without its format, as records kept before the format existed were.
 */
export function hashRequest(
  query: UpstreamQuery,
  options: ResultOptions,
  callbackUrl?: string,
): Promise<string> {
  const { format, ...rest } = options
  const parts: unknown[] = [query, format === 'csv' ? rest : options]
  // Only when given, so the hashes of submits without one stay what they were.
  if (callbackUrl) parts.push({ callbackUrl })
  return sha256Hex(JSON.stringify(parts))
}
