/**
 * Query ids and the store keys derived from them. Portable.
 * Only a validated UUID ever becomes a key, so no request can name an arbitrary blob.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function isQueryId(id: string): boolean {
  return UUID.test(id)
}

/** The CSV result of a query. */
export function toResultKey(id: string): string {
  return `${id}.csv`
}

/** The small JSON record kept beside each result, from which a registry can be rebuilt. */
export function toRecordKey(id: string): string {
  return `${id}.json`
}
