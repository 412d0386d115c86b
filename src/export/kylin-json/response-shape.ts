/**
 * What a Kylin answer is, once its members are known: a SQLResponse that reports an exception,
 * a result wrapped in a `"000"` envelope, or something else to describe to a person. Portable.
 */
import { UpstreamError } from '../../errors.ts'
import { isKylinEnvelope, stripStackFrames, toOneLine } from '../../upstream/kylin-error.ts'

/** A SQLResponse that reports an exception fails with Kylin's message, stack frames dropped. */
export function checkException(response: Record<string, unknown>): Record<string, unknown> {
  if (response.isException === true) {
    const message = typeof response.exceptionMessage === 'string' ? response.exceptionMessage : ''
    throw new UpstreamError(toOneLine(stripStackFrames(message)).trim() || 'Unknown error.')
  }
  return response
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** `{"code":"000","data":{…a SQLResponse…}}`: Kylin 5's and KE 4's wrapping of a result. */
export function isSuccessEnvelope(
  body: Record<string, unknown>,
): body is Record<string, unknown> & { data: Record<string, unknown> } {
  return (
    isKylinEnvelope(body) &&
    body.code === '000' &&
    isObject(body.data) &&
    (Object.hasOwn(body.data, 'columnMetas') || Object.hasOwn(body.data, 'results'))
  )
}

/** What came back instead of a result, for a person: its members, or its kind. */
export function describeShape(body: Record<string, unknown>): string {
  const names = Object.keys(body)
  if (names.length === 0) return 'an empty object'
  const shown = names.slice(0, 5).map((name) => JSON.stringify(name).slice(0, 40))
  const more = names.length > 5 ? ` and ${names.length - 5} more` : ''
  const what =
    body.columnMetas === undefined || body.columnMetas === null
      ? 'neither "columnMetas" nor "results"'
      : '"columnMetas" is not an array'
  return `${what}; its members: ${shown.join(', ')}${more}`
}
