/**
 * The streaming SQLResponse → CSV transcoder, checked byte for byte against the reference path
 * (JSON.parse + the reference encoder + TextEncoder) under every chunk split. Portable.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeCsvHeader, encodeCsvRow, type Cell } from '../../../src/export/csv/encode.ts'
import { UpstreamError } from '../../../src/errors.ts'
import {
  transcodeKylinResult,
  type TranscodeOptions,
  type TranscodeSummary,
} from '../../../src/export/kylin-csv/transcode-stream.ts'
import { readAll, toChunkedStream } from '../support.ts'
import { extra, style, toBody } from '../kylin-responses.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

interface Run {
  bytes: Uint8Array
  text: string
  chunks: Uint8Array[]
  summary: TranscodeSummary
}

async function run(
  body: string | Uint8Array,
  options: Partial<TranscodeOptions> = {},
  sizes?: readonly number[],
): Promise<Run> {
  const input = typeof body === 'string' ? encoder.encode(body) : body
  const transcoding = transcodeKylinResult(toChunkedStream(input, sizes), {
    separator: ',',
    includeHeader: false,
    ...options,
  })
  const [read, summary] = await Promise.allSettled([readAll(transcoding.csv), transcoding.summary])
  if (read.status === 'rejected') {
    // The summary must fail with the very same error.
    expect(summary.status).toBe('rejected')
    if (summary.status === 'rejected') expect(summary.reason).toBe(read.reason)
    throw read.reason
  }
  if (summary.status === 'rejected') throw new Error('the csv ended but the summary failed')
  return { ...read.value, text: decoder.decode(read.value.bytes), summary: summary.value }
}

async function expectFailure(
  body: string | Uint8Array,
  message: RegExp | string,
  options: Partial<TranscodeOptions> = {},
  sizes?: readonly number[],
) {
  const error = await run(body, options, sizes).then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(UpstreamError)
  expect((error as Error).message).toMatch(message)
}

/** Byte equality; vitest's deep diff is only used (slowly) when the bytes differ. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array) {
  const same = actual.length === expected.length && actual.every((b, i) => b === expected[i])
  if (!same) expect(decoder.decode(actual)).toBe(decoder.decode(expected))
  if (!same) expect(actual).toEqual(expected)
}

interface Reference {
  bytes: Uint8Array
  summary: TranscodeSummary
}

interface ReferenceMeta {
  name?: unknown
  label?: unknown
  columnTypeName?: unknown
  precision?: unknown
  scale?: unknown
}

function toInteger(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null
}

/** The reference path: the whole body through JSON.parse, then the reference encoder. */
function toReference(body: string, separator: string, includeHeader: boolean): Reference {
  const parsed = JSON.parse(body) as Record<string, unknown>
  const metas = (parsed.columnMetas ?? []) as ReferenceMeta[]
  const rows = (parsed.results ?? []) as Cell[][]
  let text = includeHeader
    ? encodeCsvHeader(
        metas.map((m) => String(m.label ?? m.name ?? '')),
        separator,
      )
    : ''
  for (const row of rows) text += encodeCsvRow(row, separator)
  const bytes = encoder.encode(text)
  return {
    bytes,
    summary: {
      metadata: {
        names: metas.map((m) => String(m.name ?? m.label ?? '')),
        types: metas.map((m) => String(m.columnTypeName ?? '')),
        precisions: metas.map((m) => toInteger(m.precision)),
        scales: metas.map((m) => toInteger(m.scale)),
      },
      rows: rows.length,
      bytes: bytes.length,
      partial: parsed.partial === true,
    },
  }
}

const META = [
  { isNullable: 1, label: 'CAL_DT', name: 'CAL_DT', columnTypeName: 'DATE', columnType: 91 },
  { isNullable: 1, label: 'N', name: 'N', columnTypeName: 'VARCHAR', columnType: 12 },
]

function kylinBody(results: unknown, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    columnMetas: META,
    results,
    cube: 'CUBE[name=kylin_sales_cube]',
    affectedRowCount: 0,
    isException: false,
    exceptionMessage: null,
    duration: 61,
    partial: false,
    ...extra,
  })
}

describe('upstream/transcode', () => {
  describe('cells', () => {
    it("writes Kylin's own bytes", async () => {
      const body = kylinBody([['123"', '123']])
      expect((await run(body)).text).toBe('"123""",123\n')
      expect((await run(body, { includeHeader: true })).text).toBe('CAL_DT,N\n"123""",123\n')
      expect((await run(body, { separator: '\n' })).text).toBe('"123"""\n123\n')
    })

    it('decodes every escape', async () => {
      const body = String.raw`{"results":[["q\"b\\s\/bs\bff\fn\nr\rt\tu\u0041\u00e9\u20AC"]]}`
      const { text } = await run(body)
      expect(text).toBe('"q""b\\s/bs\bff\fn\nr\rt\tuAé€"\n')
    })

    it('quotes cells whose escapes decode to a quote, CR, LF or the separator', async () => {
      const body = String.raw`{"results":[["a\u000ab","a\u000db","\u0022","a\u002cb","a\tb","x"]]}`
      expect((await run(body)).text).toBe('"a\nb","a\rb","""","a,b",a\tb,x\n')
      expect((await run(body, { separator: '\t' })).text).toBe(
        '"a\nb"\t"a\rb"\t""""\ta,b\t"a\tb"\tx\n',
      )
    })

    it('joins surrogate pairs and turns lone surrogates into U+FFFD', async () => {
      const cases: [string, string][] = [
        [String.raw`\ud83d\ude00`, '😀'],
        [String.raw`\uD83D\uDE00`, '😀'],
        [String.raw`\ud83d`, '\ufffd'],
        [String.raw`\ude00`, '\ufffd'],
        [String.raw`\ud83dx`, '\ufffdx'],
        [String.raw`\ud83d\n`, '"\ufffd\n"'],
        [String.raw`\ud83d\ud83d\ude00`, '\ufffd😀'],
        [String.raw`\ude00\ud83d`, '\ufffd\ufffd'],
        [String.raw`\ud83d\u0041`, '\ufffdA'],
        ['😀é', '😀é'],
      ]
      for (const [json, csv] of cases) {
        const body = `{"results":[["${json}"]]}`
        for (const size of [1, 2, 3, 5, 1000]) {
          expect((await run(body, {}, [size])).text).toBe(`${csv}\n`)
        }
        const reference = toReference(body, ',', false)
        expect((await run(body)).bytes).toEqual(reference.bytes)
      }
    })

    it('writes null as an empty cell and an empty row as an empty line', async () => {
      expect((await run('{"results":[[null,"a",null],[],[null]]}')).text).toBe(',a,\n\n\n')
    })

    it('keeps the JSON text of number and boolean cells', async () => {
      const body =
        '{"results":[[1,-2.5,3e10,0,-0,1E+2,2.5e-3,true,false,null,12345678901234567890]]}'
      const { text, summary } = await run(body)
      expect(text).toBe('1,-2.5,3e10,0,-0,1E+2,2.5e-3,true,false,,12345678901234567890\n')
      expect(summary.rows).toBe(1)
      expect((await run('{"results":[[2.5,3,true]]}', { separator: '.' })).text).toBe(
        '"2.5".3.true\n',
      )
      expect((await run('{"results":[[true,1]]}', { separator: 'ru' })).text).toBe('"true"ru1\n')
    })

    it('matches multi-byte and odd separators as the reference does', async () => {
      const body = kylinBody([
        ['a||b', 'a|b', 'c"d', 'e\nf', '€x', 'plain'],
        ['||', '|', '', null, '€', '\t'],
      ])
      for (const separator of ['||', '|', '"', '\n', '€', '€x', '\t', '"\n', '\r\n', 'ab']) {
        for (const includeHeader of [false, true]) {
          const reference = toReference(body, separator, includeHeader)
          for (const size of [1, 4, 7, 100000]) {
            const result = await run(body, { separator, includeHeader }, [size])
            expectSameBytes(result.bytes, reference.bytes)
          }
        }
      }
    })

    it('handles long separators and the most expanding rows', async () => {
      const rows = Array.from({ length: 3000 }, (_, i) =>
        i % 3 === 0 ? ['', '', null, '', null] : ['a', `x${'😀'.repeat(i % 4)}y`, '', 'q"', null],
      )
      const body = kylinBody(rows)
      for (const separator of ['😀', '😀😀😀', 'ab'.repeat(20), '|'.repeat(300)]) {
        const reference = toReference(body, separator, true)
        for (const sizes of [[1 << 20], [65_536], [777]]) {
          const result = await run(body, { separator, includeHeader: true }, sizes)
          expectSameBytes(result.bytes, reference.bytes)
        }
      }
      // A separator too long for the fast path's budget: every row takes the slow path.
      const small = kylinBody(rows.slice(0, 20))
      const separator = '|'.repeat(40_000)
      const result = await run(small, { separator, includeHeader: true })
      expectSameBytes(result.bytes, toReference(small, separator, true).bytes)
    })

    it('handles a cell much larger than the output buffer', async () => {
      const big = 'x'.repeat(200_000) + '"' + 'y,'.repeat(70_000) + '\n'
      const body = kylinBody([['a', big, 'b'], [big]])
      const reference = toReference(body, ',', true)
      for (const sizes of [[1 << 20], [65_536], [4_093, 17]]) {
        const result = await run(body, { includeHeader: true }, sizes)
        expectSameBytes(result.bytes, reference.bytes)
      }
    })
  })

  describe('the response object', () => {
    it('reads metadata from columnMetas and writes the unescaped label header', async () => {
      const metas = [
        { name: 'N1', label: 'L,1', columnTypeName: 'VARCHAR' },
        { name: 'N2', columnTypeName: 'DECIMAL' },
        { label: 'L3' },
      ]
      const body = JSON.stringify({ columnMetas: metas, results: [['a', 'b', 'c']] })
      const { text, summary } = await run(body, { includeHeader: true })
      expect(text).toBe('L,1,N2,L3\na,b,c\n')
      expect(summary).toEqual({
        metadata: {
          names: ['N1', 'N2', 'L3'],
          types: ['VARCHAR', 'DECIMAL', ''],
          precisions: [null, null, null],
          scales: [null, null, null],
        },
        rows: 1,
        bytes: encoder.encode(text).length,
        partial: false,
      })
    })

    it('reports partial', async () => {
      expect((await run(kylinBody([['a']], { partial: true }))).summary.partial).toBe(true)
      expect((await run(kylinBody([['a']], { partial: false }))).summary.partial).toBe(false)
    })

    it('accepts any field order, with or without a header', async () => {
      const bodies = [
        JSON.stringify({ results: [['a', 'b']], partial: true, columnMetas: META }),
        JSON.stringify({ partial: true, results: [['a', 'b']], x: 1, columnMetas: META }),
        JSON.stringify({ columnMetas: META, partial: true, results: [['a', 'b']] }),
      ]
      for (const body of bodies) {
        for (const size of [1, 3, 1000]) {
          const withHeader = await run(body, { includeHeader: true }, [size])
          expect(withHeader.text).toBe('CAL_DT,N\na,b\n')
          expect(withHeader.summary.metadata.names).toEqual(['CAL_DT', 'N'])
          expect(withHeader.summary.partial).toBe(true)
          expect((await run(body, {}, [size])).text).toBe('a,b\n')
        }
      }
    })

    it('holds rows back until the header is known when results come first', async () => {
      const rows = Array.from({ length: 20_000 }, (_, i) => [`row ${i}`, null])
      const body = JSON.stringify({ results: rows, columnMetas: META })
      const result = await run(body, { includeHeader: true }, [4096])
      expectSameBytes(result.bytes, toReference(body, ',', true).bytes)
      expect(result.text.startsWith('CAL_DT,N\nrow 0,\n')).toBe(true)
    })

    it('skips unknown members of any shape, before and after results', async () => {
      const odd = {
        traces: [{ name: 'a]}', group: '\\"[{', duration: 1 }, [], {}, [[{ x: [1, { y: '}' }] }]]],
        cube: 'quote " brace } bracket ] backslash \\ unicode \u2028 é',
        results2: [['not', 'these']],
        n: -1.5e3,
        t: true,
        z: null,
      }
      const body = JSON.stringify({ ...odd, columnMetas: META, results: [['a']], ...odd })
      const escaped = body.replace('"cube"', '"\\u0063ube"')
      for (const size of [1, 2, 9, 100000]) {
        expect((await run(escaped, { includeHeader: true }, [size])).text).toBe('CAL_DT,N\na\n')
      }
    })

    it('finds results even when its key is written with escapes', async () => {
      const body = '{"columnMetas":[],"r\\u0065sults":[["a"]],"partial":false}'
      expect((await run(body)).text).toBe('a\n')
    })

    it('reads pretty-printed JSON with any whitespace', async () => {
      const body = kylinBody([
        ['a', null],
        ['b', 'c'],
      ])
      for (const pretty of [
        JSON.stringify(JSON.parse(body), null, 2),
        JSON.stringify(JSON.parse(body), null, '\t').replaceAll('\n', '\r\n'),
        ` \n\t${body} \r\n `,
        '\ufeff' + body,
      ]) {
        for (const size of [1, 5, 100000]) {
          expect((await run(pretty, { includeHeader: true }, [size])).text).toBe(
            'CAL_DT,N\na,\nb,c\n',
          )
        }
      }
    })

    it('writes only the header (or nothing) for empty, null or missing results', async () => {
      for (const body of [
        kylinBody([]),
        kylinBody(null),
        JSON.stringify({ columnMetas: META, partial: false }),
        '{"results":[]}',
        '{ "results" : [ ] }',
      ]) {
        const plain = await run(body)
        expect(plain.text).toBe('')
        expect(plain.summary.rows).toBe(0)
        expect(plain.summary.bytes).toBe(0)
        const headed = await run(body, { includeHeader: true })
        expectSameBytes(headed.bytes, toReference(body, ',', true).bytes)
      }
    })
  })

  describe('failures', () => {
    it('fails with the one-line exception message when isException comes after results', async () => {
      const body = kylinBody([['a']], {
        isException: true,
        exceptionMessage: 'Table not found\nwhile executing SQL: "select 1"\r\n',
      })
      await expectFailure(body, /^Table not found/)
      await expectFailure(body, 'Table not foundwhile executing SQL: "select 1"')
      const error = await run(body).catch((e: unknown) => e)
      expect((error as Error).message).not.toMatch(/[\r\n]/)
    })

    it('fails with "Unknown error." when the exception has no message', async () => {
      await expectFailure(
        kylinBody([['a']], { isException: true, exceptionMessage: null }),
        /^Unknown error\.$/,
      )
      await expectFailure(
        kylinBody([['a']], { isException: true, exceptionMessage: '' }),
        /^Unknown error\.$/,
      )
    })

    it('fails early when isException comes before results', async () => {
      const body = JSON.stringify({ isException: true, exceptionMessage: 'boom', results: [['a']] })
      await expectFailure(body, /^boom$/)
    })

    it('fails on every truncation of a body, and succeeds only on the whole', async () => {
      const body = encoder.encode(
        JSON.stringify({
          columnMetas: [{ name: 'A', label: 'a' }],
          results: [['x\u00e9\ud83d\ude00', null, 'q"\\\n\u0001\ud800'], [], [true, -1.5e3]],
          partial: true,
          traces: [{ a: '}]' }],
        }),
      )
      for (let length = 0; length < body.length; length++) {
        for (const sizes of [[1_000_000], [1], [3, 7]]) {
          await expectFailure(
            body.subarray(0, length),
            /ended before the JSON was complete|not valid JSON/,
            {},
            sizes,
          )
        }
      }
      expect((await run(body)).summary.rows).toBe(3)
    })

    it('names the byte count when the body ends early', async () => {
      await expectFailure(
        '{"results":[["abc"',
        "The upstream Kylin's answer ended before the JSON was complete (after 18 bytes); no result was kept.",
      )
      await expectFailure('', /ended before the JSON was complete \(after 0 bytes\)/)
    })

    it('fails on garbage before, inside or after the object', async () => {
      const cases: [string, RegExp][] = [
        ['garbage', /not valid JSON at byte 0: expected '\{', found 'g'/],
        ['[]', /not valid JSON at byte 0/],
        [
          '{"results":[["a"]]} x',
          /not valid JSON at byte 20: unexpected data after the JSON object/,
        ],
        ['{"results":[["a"]]}{}', /unexpected data after the JSON object/],
        ['{"results":[["a"]]]', /not valid JSON at byte 18/],
        ['{"results":[["a"],]}', /expected a row/],
        ['{"results":[["a",]]}', /expected a value/],
        ['{"results":[["a" "b"]]}', /expected ',' or '\]' after a cell/],
        ['{"results":[["a"]] "x":1}', /expected ',' or '\}' after "results"/],
        ['{"results":[["a\\x"]]}', /invalid escape/],
        ['{"results":[["a\\u00g0"]]}', /invalid \\u escape/],
        ['{"results":[["a\nb"]]}', /control character/],
        ['{"results":[[nul]]}', /invalid literal/],
        ['{"results":[[truth]]}', /invalid literal/],
        ['{"results":[[01]]}', /expected ',' or '\]' after a cell/],
        ['{"results":[[1.]]}', /incomplete number/],
        ['{"results":[[-]]}', /incomplete number/],
        ['{"results":[[1e]]}', /incomplete number/],
        ['{"results":[[.5]]}', /expected a value/],
        ['{"results":[[+1]]}', /expected a value/],
        ['{"results":[["a"]], "partial": tru}', /not valid JSON outside "results"/],
        ['{"columnMetas":[},"results":[["a"]]}', /not valid JSON/],
        ['{"a":1,,"results":[]}', /not valid JSON/],
        ['{"a" 1}', /expected ':'/],
        ['{"results":{}}', /"results" is not an array/],
        ['{"results":"x"}', /"results" is not an array/],
        ['{"results":[["a"]],"results":[["b"]]}', /"results" appears twice/],
      ]
      for (const [body, message] of cases) {
        for (const size of [1, 1000]) await expectFailure(body, message, {}, [size])
      }
    })

    it('fails on a row that is not an array and on a nested value in a cell', async () => {
      await expectFailure('{"results":[["a"],"b"]}', /row 2 of "results" is not an array/)
      await expectFailure('{"results":[null]}', /row 1 of "results" is not an array/)
      await expectFailure('{"results":[{"a":1}]}', /row 1 of "results" is not an array/)
      await expectFailure('{"results":[[{"a":1}]]}', /a cell of "results" \(row 1\) is an object/)
      await expectFailure(
        '{"results":[["a"],["b",["c"]]]}',
        /a cell of "results" \(row 2\) is an array/,
      )
    })

    it('fails the stream and the summary on an empty separator', async () => {
      const { csv, summary } = transcodeKylinResult(toChunkedStream(encoder.encode('{}')), {
        separator: '',
        includeHeader: false,
      })
      await expect(readAll(csv)).rejects.toThrow(/separator must not be empty/)
      await expect(summary).rejects.toThrow(/separator must not be empty/)
    })

    it('wraps a failing upstream body in an UpstreamError', async () => {
      let pulls = 0
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulls++ === 0) controller.enqueue(encoder.encode('{"results":[["a"],'))
          else controller.error(new TypeError('socket hang up'))
        },
      })
      const { csv, summary } = transcodeKylinResult(body, { separator: ',', includeHeader: false })
      await expect(readAll(csv)).rejects.toThrow(/broke off after 18 bytes \(socket hang up\)/)
      await expect(summary).rejects.toBeInstanceOf(UpstreamError)
    })
  })

  describe('a Kylin envelope instead of a result', () => {
    const SQL_ERROR = 'Table not found\nwhile executing SQL: "select * from x"'
    const SQL_ERROR_LINE = 'Table not foundwhile executing SQL: "select * from x"'
    const FRAMES =
      '\n\tat org.apache.kylin.rest.service.QueryService.doQueryWithCache(QueryService.java:486)' +
      '\n\tat org.apache.kylin.rest.controller.QueryController.query(QueryController.java:86)\n'
    /** Kylin 2–4's ErrorResponse, members in the order Jackson writes them. */
    const KYLIN4_ERROR = {
      code: '999',
      data: null,
      msg: SQL_ERROR,
      stacktrace: `org.apache.kylin.rest.exception.InternalErrorException: ${SQL_ERROR}${FRAMES}`,
      exception: SQL_ERROR,
      url: 'http://kylin:7070/kylin/api/query',
    }
    const KYLIN5_ERROR = {
      code: '999',
      data: null,
      msg: 'KE-010001201: Can\'t find project "nope". Please check and try again.',
      stacktrace: `org.apache.kylin.common.exception.KylinException${FRAMES}`,
      exception: 'Can\'t find project "nope".',
      url: 'http://kylin:7070/kylin/api/query',
      suggestion: null,
      error_code: 'KE-010001201',
    }

    /** Reads the csv until it ends or fails: the bytes written, and the failure. */
    async function readUntilFailure(body: string, includeHeader: boolean, size: number) {
      const transcoding = transcodeKylinResult(toChunkedStream(encoder.encode(body), [size]), {
        separator: ',',
        includeHeader,
      })
      const reader = transcoding.csv.getReader()
      let written = 0
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return { written, error: null }
          written += value.length
        }
      } catch (error) {
        await expect(transcoding.summary).rejects.toBe(error)
        return { written, error }
      }
    }

    it("fails with Kylin's msg on one line, for any member order and split, writing nothing", async () => {
      const reversed = Object.fromEntries(Object.entries(KYLIN4_ERROR).reverse())
      const cases: [unknown, string][] = [
        [KYLIN4_ERROR, SQL_ERROR_LINE],
        [reversed, SQL_ERROR_LINE],
        [{ data: null, msg: SQL_ERROR, code: '999' }, SQL_ERROR_LINE],
        [KYLIN5_ERROR, KYLIN5_ERROR.msg],
      ]
      for (const [envelope, message] of cases) {
        const body = JSON.stringify(envelope, null, 1)
        for (const size of [1, 2, 7, 1_000_000]) {
          for (const includeHeader of [false, true]) {
            const { written, error } = await readUntilFailure(body, includeHeader, size)
            expect(error).toBeInstanceOf(UpstreamError)
            expect((error as Error).message).toBe(message)
            expect(written).toBe(0)
          }
        }
      }
    })

    it('cuts Java stack frames out of the message', async () => {
      const body = JSON.stringify({
        ...KYLIN4_ERROR,
        msg: `java.lang.IllegalStateException: The cube kylin_sales_cube is being rebuilt${FRAMES}`,
      })
      await expectFailure(
        body,
        /^java\.lang\.IllegalStateException: The cube kylin_sales_cube is being rebuilt$/,
      )
    })

    it('falls back to exception, then to a message naming the code', async () => {
      await expectFailure(JSON.stringify({ ...KYLIN4_ERROR, msg: ' ' }), SQL_ERROR_LINE)
      await expectFailure(
        '{"code":"999","data":null,"msg":null}',
        'The upstream Kylin answered with error code "999" and no message; no result was kept. Its log has the details.',
      )
    })

    it('reads a failed SQL from inside a Kylin 5 "000" envelope', async () => {
      const body = JSON.stringify({
        code: '000',
        data: { columnMetas: [], results: null, isException: true, exceptionMessage: SQL_ERROR },
        msg: '',
      })
      for (const size of [1, 5, 1_000_000]) await expectFailure(body, SQL_ERROR_LINE, {}, [size])
    })

    it('serves the SQLResponse inside a Kylin 5 or KE 4 "000" envelope, as the bare one', async () => {
      const rows = [
        ['a', 'b,c'],
        [null, '"q"'],
      ]
      const bare = kylinBody(rows)
      const wrapped = [
        JSON.stringify({ code: '000', data: JSON.parse(bare), msg: '' }),
        JSON.stringify({ msg: '', data: JSON.parse(bare), code: '000' }, null, 2),
      ]
      for (const body of wrapped) {
        for (const size of [1, 7, 1_000_000]) {
          for (const includeHeader of [false, true]) {
            const expected = await run(bare, { includeHeader })
            const served = await run(body, { includeHeader }, [size])
            expectSameBytes(served.bytes, expected.bytes)
            expect(served.summary).toEqual(expected.summary)
          }
        }
      }
    })

    it('fails an envelope whose code is not "000", even around a result, with its msg', async () => {
      const body = JSON.stringify({ code: '999', data: JSON.parse(kylinBody([['a']])), msg: 'No' })
      await expectFailure(body, /^No$/)
    })

    it('fails JSON that is not a query result, saying what came back', async () => {
      for (const [body, shown] of [
        ['{}', 'an empty object'],
        ['{"hello":"world"}', '"hello"'],
        ['{"columnMetas":"x","results":[]}', '"columnMetas" is not an array'],
        ['{"code":"000","data":{"hello":1},"msg":""}', 'sent an envelope'],
      ] as const) {
        for (const size of [1, 1_000_000]) {
          const { csv, summary } = transcodeKylinResult(
            toChunkedStream(encoder.encode(body), [size]),
            {
              separator: ',',
              includeHeader: true,
            },
          )
          await expect(readAll(csv)).rejects.toThrow(shown)
          await expect(summary).rejects.toThrow(/no result was kept/)
        }
      }
    })

    it('never takes a SQLResponse for an envelope, wherever a `code` member stands', async () => {
      const rows = [['a', 'b']]
      const bodies = [
        JSON.stringify({ code: '999', msg: 'x', columnMetas: META, results: rows }),
        JSON.stringify({ columnMetas: META, code: '999', results: rows }),
        JSON.stringify({ results: rows, code: '999', msg: 'x', columnMetas: META }),
        JSON.stringify({ columnMetas: META, results: rows, code: '999', msg: 'x' }),
        JSON.stringify({ code: '999', results: rows }),
        JSON.stringify({ results: rows, code: '999' }),
      ]
      for (const body of bodies) {
        for (const size of [1, 3, 1_000_000]) {
          expect((await run(body, {}, [size])).text).toBe('a,b\n')
        }
      }
      // An empty result with a stray `code` is still an (empty) result.
      for (const body of [
        JSON.stringify({ code: '999', columnMetas: META, results: null }),
        JSON.stringify({ columnMetas: META, code: '000' }),
        JSON.stringify({ code: '000', results: [] }),
      ]) {
        expect((await run(body, { includeHeader: true }, [2])).summary.rows).toBe(0)
      }
    })
  })

  describe('memory bounds', () => {
    /** An endless-looking body made of a head, `count` repeats of `part`, and a tail. */
    function toRepeatedStream(head: string, part: Uint8Array, count: number, tail: string) {
      let sent = -1
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === -1) controller.enqueue(encoder.encode(head))
          else if (sent < count) controller.enqueue(part)
          else if (sent === count) controller.enqueue(encoder.encode(tail))
          else controller.close()
          sent++
        },
      })
    }
    const MIB = 1024 * 1024

    it('fails on a single cell larger than 64 MiB', async () => {
      const body = toRepeatedStream('{"results":[["', new Uint8Array(MIB).fill(97), 65, '"]]}')
      const { csv, summary } = transcodeKylinResult(body, { separator: ',', includeHeader: false })
      await expect(readAll(csv)).rejects.toThrow(/a cell larger than 64 MiB \(row 1\)/)
      await expect(summary).rejects.toBeInstanceOf(UpstreamError)
    })

    it('fails when more than 64 MiB of rows wait for a late columnMetas header', async () => {
      const row = encoder.encode(`["${'b'.repeat(1000)}"],`)
      const part = new Uint8Array(row.length * 1000)
      for (let i = 0; i < 1000; i++) part.set(row, i * row.length)
      const body = toRepeatedStream('{"results":[', part, 70, '["c"]],"columnMetas":[]}')
      const { csv } = transcodeKylinResult(body, { separator: ',', includeHeader: true })
      await expect(readAll(csv)).rejects.toThrow(/"results" before "columnMetas"/)
    })

    it('fails when the members outside results exceed 64 MiB', async () => {
      const body = toRepeatedStream(
        '{"cube":"',
        new Uint8Array(MIB).fill(97),
        65,
        '","results":[]}',
      )
      const { csv } = transcodeKylinResult(body, { separator: ',', includeHeader: false })
      await expect(readAll(csv)).rejects.toThrow(/more than 64 MiB outside "results"/)
    })
  })

  describe('streaming', () => {
    it('emits a few big chunks, not one per row, even from tiny input chunks', async () => {
      const rows = Array.from({ length: 30_000 }, (_, i) => [`r${i}`, 'x'.repeat(i % 7)])
      const body = kylinBody(rows)
      for (const sizes of [[1_000_000_000], [65_536], [1]]) {
        const { chunks, summary } = await run(body, {}, sizes)
        expect(chunks.length).toBeLessThanOrEqual(Math.ceil(summary.bytes / (16 * 1024)) + 1)
        for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(64 * 1024)
      }
    })

    it('reports progress once per flush with running totals', async () => {
      const rows = Array.from({ length: 20_000 }, (_, i) => [`row ${i}`])
      const calls: [number, number][] = []
      const { summary, chunks } = await run(kylinBody(rows), {
        onProgress: (rows, bytes) => calls.push([rows, bytes]),
      })
      expect(calls.length).toBe(chunks.length)
      expect(calls.length).toBeGreaterThan(1)
      expect(calls.at(-1)).toEqual([summary.rows, summary.bytes])
      for (let i = 1; i < calls.length; i++) {
        expect(calls[i]![0]).toBeGreaterThanOrEqual(calls[i - 1]![0])
        expect(calls[i]![1]).toBeGreaterThanOrEqual(calls[i - 1]![1])
      }
    })

    it('pulls from the upstream only as fast as the csv is read', async () => {
      const row = encoder.encode('["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],')
      const part = new Uint8Array(row.length * 1300) // ~64 KiB per upstream chunk
      for (let i = 0; i < 1300; i++) part.set(row, i * row.length)
      let pulled = 0
      const body = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            pulled++
            controller.enqueue(pulled === 1 ? encoder.encode('{"results":[') : part)
          },
        },
        { highWaterMark: 0 },
      )
      const { csv } = transcodeKylinResult(body, { separator: ',', includeHeader: false })
      const reader = csv.getReader()
      await reader.read()
      await new Promise((resolve) => setTimeout(resolve, 50))
      // 256 KiB queued ahead at most: a handful of upstream chunks, not the whole endless body.
      expect(pulled).toBeLessThan(12)
      const before = pulled
      for (let i = 0; i < 20; i++) await reader.read()
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(pulled).toBeGreaterThan(before)
      expect(pulled).toBeLessThan(before + 40)
      await reader.cancel()
    })

    it('cancels the upstream body when the csv stream is cancelled', async () => {
      let cancelled: unknown = 'not cancelled'
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(encoder.encode('{"results":[' + '["a"],'.repeat(20_000)))
        },
        cancel(reason) {
          cancelled = reason
        },
      })
      const { csv, summary } = transcodeKylinResult(body, { separator: ',', includeHeader: false })
      const reader = csv.getReader()
      await reader.read()
      const reason = new Error('store failed')
      await reader.cancel(reason)
      expect(cancelled).toBe(reason)
      await expect(summary).rejects.toBe(reason)
    })
  })

  describe('properties', () => {
    const special = fc.constantFrom(
      ',',
      '"',
      '\n',
      '\r',
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
      '😀',
      '\u0000',
      '\u001f',
      '\u007f',
      '\u2028',
      '\ufeff',
      '\ufffd',
    )
    const loneSurrogate = fc
      .integer({ min: 0xd800, max: 0xdfff })
      .map((u) => String.fromCharCode(u))
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.string({ unit: special, maxLength: 8 }),
      fc.string({
        unit: fc.oneof(
          special,
          loneSurrogate,
          fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        ),
        maxLength: 12,
      }),
    )
    const cell = fc.oneof(
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 5, arbitrary: text },
    )
    const separator = fc.oneof(
      fc.constantFrom(
        ',',
        '|',
        '\t',
        '\n',
        '"',
        '||',
        ';',
        '\r\n',
        'é',
        '€',
        '😀',
        ',"',
        'ab',
        '"\n',
        'nu',
      ),
      fc.string({ unit: special, minLength: 1, maxLength: 3 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }),
    )
    const meta = fc.record(
      {
        name: fc.oneof(text, fc.constant(null)),
        label: fc.oneof(text, fc.constant(null)),
        columnTypeName: fc.constantFrom('VARCHAR', 'DATE', 'DECIMAL', 'BIGINT'),
        isNullable: fc.constant(1),
      },
      { requiredKeys: [] },
    )
    const anySizes = fc.oneof(
      fc.constant([1]),
      fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 4 }),
      fc.constant([1 << 30]),
    )
    const bigSizes = fc.oneof(
      fc.array(fc.integer({ min: 64, max: 70_000 }), { minLength: 1, maxLength: 4 }),
      fc.constant([1 << 30]),
    )
    const response = (
      maxRows: number,
      maxColumns: number,
      sizes = anySizes,
      size: fc.SizeForArbitrary = 'small',
    ) =>
      fc
        .record({
          metas: fc.oneof(fc.constant(undefined), fc.array(meta, { maxLength: 4 })),
          results: fc.oneof(
            { weight: 1, arbitrary: fc.constantFrom(undefined, null) },
            {
              weight: 8,
              arbitrary: fc.array(fc.array(cell, { maxLength: maxColumns, size }), {
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
          sizes,
        })
        // A body with neither columns nor rows is no result (it fails; tested on its own).
        .filter((r) => r.metas !== undefined || Array.isArray(r.results))

    type Generated = typeof response extends (...args: never[]) => fc.Arbitrary<infer R> ? R : never

    function toBodyOf(r: Generated): string {
      const fields: [string, unknown][] = [
        ['columnMetas', r.metas],
        ['results', r.results],
        ['partial', r.partial],
        ['isException', false],
        ['exceptionMessage', null],
        ['extra', Object.keys(r.extra).length > 0 ? r.extra : undefined],
      ]
      return toBody(fields, r.order, r.style)
    }

    async function checkAgainstReference(r: Generated) {
      const body = toBodyOf(r)
      const reference = toReference(body, r.separator, r.includeHeader)
      const result = await run(
        body,
        { separator: r.separator, includeHeader: r.includeHeader },
        r.sizes,
      )
      expectSameBytes(result.bytes, reference.bytes)
      expect(result.summary).toEqual(reference.summary)
    }

    it('matches the reference byte for byte (small bodies, any split)', async () => {
      await fc.assert(fc.asyncProperty(response(6, 5), checkAgainstReference), { numRuns: 500 })
    })

    it('matches the reference byte for byte (larger bodies)', async () => {
      await fc.assert(fc.asyncProperty(response(300, 12), checkAgainstReference), { numRuns: 40 })
      // Several output buffers' worth: rows cross the fast path's windows and flushes.
      await fc.assert(
        fc.asyncProperty(response(8000, 12, bigSizes, 'max'), checkAgainstReference),
        {
          numRuns: 15,
        },
      )
    })

    it('fails on any truncation of a valid body', async () => {
      await fc.assert(
        fc.asyncProperty(
          response(5, 4),
          fc.double({ min: 0, max: 1, noNaN: true }),
          async (r, at) => {
            const bytes = encoder.encode(toBodyOf(r))
            const complete = bytes.lastIndexOf(125) + 1 // the closing brace; only whitespace after it
            const length = Math.min(complete - 1, Math.floor(at * complete))
            await expectFailure(
              bytes.subarray(0, length),
              /ended before the JSON was complete|not valid JSON/,
              { separator: r.separator, includeHeader: r.includeHeader },
              r.sizes,
            )
          },
        ),
        { numRuns: 300 },
      )
    })
  })
})
