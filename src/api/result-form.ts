/**
 * The form a result is downloaded in: the one chosen at submit, or another asked for at download
 * time with `format`, `encode` and `include_header` / `includeHeader`. Portable.
 */
import { BadRequestError } from '../errors.ts'
import {
  encodingOf,
  formatOf,
  RESULT_ENCODINGS,
  RESULT_FORMATS,
  TEXT_FORMATS,
  type ResultEncoding,
  type ResultFormat,
  type ResultOptions,
} from '../domain/query.ts'

/** Kylin 5's envelope code for an option it does not take. */
export const ILLEGAL_PARAMETERS = 'KE-020040001(Asynchronous query illegal parameters)'

/** The lists the bad-option messages name, as Kylin 5 writes its own. */
export const FORMAT_LIST = `[${RESULT_FORMATS.join(', ')}]`
export const ENCODING_LIST = `[${RESULT_ENCODINGS.join(', ')}]`

/** The formats with a header row to choose. */
const FORMATS_WITH_HEADER: readonly ResultFormat[] = ['csv', 'xlsx']

export interface ResultForm {
  format: ResultFormat
  encode: ResultEncoding
  includeHeader: boolean
}

/** The format asked for, any case, CSV when none is; `null` for one the gateway cannot write. */
export function toResultFormat(asked: string | null | undefined): ResultFormat | null {
  const format = (asked || 'csv').toLowerCase()
  return RESULT_FORMATS.find((known) => known === format) ?? null
}

/** The encoding asked for, any case, UTF-8 when none is; `null` for one it cannot write. */
export function toResultEncoding(asked: string | null | undefined): ResultEncoding | null {
  const encode = (asked || 'utf-8').toLowerCase()
  return RESULT_ENCODINGS.find((known) => known === encode) ?? null
}

/** The form the result was written in at submit. */
export function toStoredForm(options: ResultOptions): ResultForm {
  return {
    format: formatOf(options),
    encode: encodingOf(options),
    includeHeader: options.includeHeader,
  }
}

/**
 * The form a download asks for: the stored one, with whatever the query string changes. A bad
 * value answers 400 with the submit's message texts.
 */
export function toAskedForm(
  query: (name: string) => string | undefined,
  stored: ResultForm,
): ResultForm {
  const formatText = query('format')
  const format = formatText === undefined ? stored.format : toResultFormat(formatText)
  if (!format) {
    throw new BadRequestError(
      { id: 'FORMAT_UNSUPPORTED', args: [formatText ?? '', FORMAT_LIST] },
      { errorCode: ILLEGAL_PARAMETERS },
    )
  }
  const encodeText = query('encode')
  const encode = encodeText === undefined ? stored.encode : toResultEncoding(encodeText)
  if (!encode) {
    throw new BadRequestError(
      { id: 'ENCODE_UNSUPPORTED', args: [encodeText ?? '', ENCODING_LIST] },
      { errorCode: ILLEGAL_PARAMETERS },
    )
  }
  const headerText = query('include_header') ?? query('includeHeader')
  return { format, encode, includeHeader: toHeaderFlag(headerText, stored.includeHeader) }
}

function toHeaderFlag(text: string | undefined, stored: boolean): boolean {
  if (text === undefined) return stored
  const flag = text.toLowerCase()
  if (flag === 'true') return true
  if (flag === 'false') return false
  throw new BadRequestError(
    { id: 'HEADER_FLAG_INVALID', args: [text] },
    { errorCode: ILLEGAL_PARAMETERS },
  )
}

/**
 * Whether two forms give the same bytes: the header matters only where there is a header row,
 * the encoding only to text.
 */
export function isSameForm(a: ResultForm, b: ResultForm): boolean {
  if (a.format !== b.format) return false
  if (FORMATS_WITH_HEADER.includes(a.format) && a.includeHeader !== b.includeHeader) return false
  return !isText(a.format) || a.encode === b.encode
}

/** Whether the format's bytes are text in the chosen encoding. */
export function isText(format: ResultFormat): boolean {
  return TEXT_FORMATS.includes(format)
}

/** A short name of a form for an entity tag: `csv-gbk-h`. */
export function toFormKey(form: ResultForm): string {
  return `${form.format}-${form.encode}-${form.includeHeader ? 'h' : 'n'}`
}
