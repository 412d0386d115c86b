/**
 * fast-check arbitraries of Kylin `SQLResponse` bodies for the export tests: string, null,
 * number and boolean cells, escapes of every kind, any separator, any member order and
 * layout, and chunk splits anywhere. Portable.
 */
import fc from 'fast-check'

/** Characters that stress CSV quoting and JSON escaping. */
export const special = fc.constantFrom(
  ',',
  ';',
  '"',
  '\n',
  '\r',
  '\r\n',
  '|',
  '\t',
  '\\',
  '/',
  ' ',
  'a',
  'n',
  'u',
  'é',
  '€',
  '東',
  '😀',
  '\u0000',
  '\u001f',
  '\u007f',
  '\u2028',
  '\ufeff',
  '\ufffd',
)
export const loneSurrogate = fc
  .integer({ min: 0xd800, max: 0xdfff })
  .map((u) => String.fromCharCode(u))
const anyUnit = fc.oneof(
  special,
  loneSurrogate,
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
)

export const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.string({ unit: special, maxLength: 10 }),
  fc.string({ unit: anyUnit, maxLength: 14 }),
)

/** A cell whose JSON text is written as is: a number or a boolean literal. */
export interface Literal {
  json: string
}
export type GeneratedCell = string | null | Literal

const numberText = fc.oneof(
  fc.constantFrom('0', '-0', '1.50', '1E+2', '2.5e-3', '-1.5E300', '12345678901234567890', '0.0'),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
)
const literal = fc.oneof(
  numberText.map((json): Literal => ({ json })),
  fc.constantFrom<Literal>({ json: 'true' }, { json: 'false' }),
)

export const cell: fc.Arbitrary<GeneratedCell> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 8, arbitrary: text },
  { weight: 2, arbitrary: literal },
)

/** Cells far larger than the kernel's 64 KiB output buffer. */
export const hugeCell = fc
  .tuple(fc.string({ unit: anyUnit, minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 40 }))
  .map(([part, k]) => part.repeat(Math.ceil((k * 5000) / part.length)))

/** Separators of 1–3 characters: ASCII, non-ASCII, CR/LF, quotes, lone surrogates. */
export const separator = fc.oneof(
  fc.constantFrom(',', '|', '\t', '\n', '"', '||', ';', '\r\n', 'é', '€', '😀', ',"', '"\n', 'nu'),
  fc.string({ unit: special, minLength: 1, maxLength: 3 }),
  fc.string({ unit: anyUnit, minLength: 1, maxLength: 3 }),
)

const meta = fc.record(
  {
    name: fc.oneof(text, fc.constant(null)),
    label: fc.oneof(text, fc.constant(null)),
    columnTypeName: fc.constantFrom('VARCHAR', 'DATE', 'DECIMAL', 'BIGINT', 'DOUBLE'),
    precision: fc.integer({ min: 0, max: 38 }),
    scale: fc.integer({ min: 0, max: 10 }),
    isNullable: fc.constantFrom(0, 1, 2),
  },
  { requiredKeys: [] },
)

export const extra = fc.dictionary(
  // Nested keys named like the top-level ones must not be taken for them.
  fc
    .oneof(fc.string({ maxLength: 6 }), fc.constantFrom('results', 'columnMetas', 'partial'))
    .filter((k) => k !== '__proto__'),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 3 },
)

/** How the JSON text is laid out: compact, pretty, CRLF, non-ASCII as \uXXXX, `\/`. */
export const style = fc.constantFrom(
  'compact',
  'pretty2',
  'prettyTab',
  'crlf',
  'escapeNonAscii',
  'escapeUpper',
  'slash',
)

/** Where the body is cut into chunks: sizes (cycled), one chunk per byte, or split points. */
export type Split = { sizes: readonly number[] } | { at: readonly number[] }
export const split: fc.Arbitrary<Split> = fc.oneof<fc.Arbitrary<Split>[]>(
  fc
    .array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 8 })
    .map((sizes) => ({ sizes })),
  fc
    .array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 4 })
    .map((sizes) => ({ sizes })),
  fc.constant({ sizes: [1] }),
  fc.constant({ sizes: [1 << 30] }),
  fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }).map((at) => ({ at })),
)

export interface GenerateOptions {
  maxRows: number
  maxColumns: number
  cell?: fc.Arbitrary<GeneratedCell>
  size?: fc.SizeForArbitrary
}

export const response = ({ maxRows, maxColumns, cell: cells = cell, size }: GenerateOptions) =>
  fc
    .record({
      metas: fc.oneof(fc.constant(undefined), fc.array(meta, { maxLength: 4 })),
      results: fc.oneof(
        { weight: 1, arbitrary: fc.constantFrom(undefined, null) },
        {
          weight: 8,
          arbitrary: fc.array(fc.array(cells, { maxLength: maxColumns, size }), {
            maxLength: maxRows,
            size,
          }),
        },
      ),
      partial: fc.oneof(fc.constant(undefined), fc.boolean()),
      extra,
      order: fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { minLength: 6, maxLength: 6 }),
      style,
      separator,
      includeHeader: fc.boolean(),
      split,
    })
    // A body with neither columns nor rows is no result (it fails; tested on its own).
    .filter((r) => r.metas !== undefined || Array.isArray(r.results))

export type GeneratedResponse =
  ReturnType<typeof response> extends fc.Arbitrary<infer R> ? R : never

/** A marker JSON.stringify keeps as `"\u0002J<n>\u0003"`, then replaced by literal n's text. */
const MARK = /"\\u0002J(\d+)\\u0003"/g

/** The body's JSON text, members in the generated order and layout. */
export function toBodyOf(r: GeneratedResponse): string {
  const literals: string[] = []
  const results =
    r.results?.map((row) =>
      row.map((c) => {
        if (c === null || typeof c === 'string') return c
        literals.push(c.json)
        return `\u0002J${literals.length - 1}\u0003`
      }),
    ) ?? r.results
  const fields: [string, unknown][] = [
    ['columnMetas', r.metas],
    ['results', results],
    ['partial', r.partial],
    ['isException', false],
    ['exceptionMessage', null],
    ['extra', Object.keys(r.extra).length > 0 ? r.extra : undefined],
  ]
  return toBody(fields, r.order, r.style).replace(MARK, (_, n: string) => literals[Number(n)]!)
}

/** A JSON object of the given members (undefined ones left out), in `order`, laid out in `style`. */
export function toBody(
  fields: [string, unknown][],
  order: readonly number[],
  style: string,
): string {
  const object: Record<string, unknown> = {}
  for (const i of order) {
    const field = fields[i]
    if (field && field[1] !== undefined) object[field[0]] = field[1]
  }
  return layOut(object, style)
}

function layOut(object: Record<string, unknown>, style: string): string {
  switch (style) {
    case 'pretty2':
      return JSON.stringify(object, null, 2)
    case 'prettyTab':
      return JSON.stringify(object, null, '\t')
    case 'crlf':
      return JSON.stringify(object, null, 1).replaceAll('\n', '\r\n') + ' \n'
    case 'escapeNonAscii':
      return JSON.stringify(object).replace(
        /[\u007f-\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      )
    case 'escapeUpper':
      return JSON.stringify(object).replace(
        /[\u0080-\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
      )
    case 'slash':
      return JSON.stringify(object).replaceAll('/', '\\/')
    default:
      return JSON.stringify(object)
  }
}

/** The chunk sizes or split offsets of `split` for a body of `length` bytes. */
export function toOffsets(split: Split, length: number): number[] {
  if ('at' in split) return split.at.map((f) => Math.floor(f * length))
  const offsets: number[] = []
  for (let offset = 0, i = 0; offset < length; i++) {
    offset += Math.max(1, split.sizes[i % split.sizes.length] ?? 1)
    offsets.push(offset)
  }
  return offsets
}
