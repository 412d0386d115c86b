/**
 * UTF-8 → GBK in chunks: the bytes iconv-lite writes for the whole text, at every split (a
 * character cut between chunks too), and failures that name the character. Node (iconv-lite).
 */
import fc from 'fast-check'
import iconv from 'iconv-lite'
import { describe, expect, it } from 'vitest'
import { createGbkTranscoder } from '../../../src/export/encoding/gbk-transcoder.ts'
import { GatewayError } from '../../../src/errors.ts'
import { concat } from '../support.ts'
import { gbkText } from './gbk-text.ts'

const encoder = new TextEncoder()

/** `utf8` cut at `cuts` (ascending), pushed in order, the last push ending the text. */
function transcode(utf8: Uint8Array, cuts: readonly number[]): Uint8Array {
  const transcoder = createGbkTranscoder()
  const parts: Uint8Array[] = []
  let from = 0
  for (const cut of cuts) {
    parts.push(transcoder.push(utf8.subarray(from, cut)))
    from = cut
  }
  parts.push(transcoder.push(utf8.subarray(from), true))
  return concat(parts)
}

const gbkOf = (text: string) => new Uint8Array(iconv.encode(text, 'gbk'))

function expectFailure(run: () => unknown, name: string) {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError)
    expect((error as Error).message).toContain(`The character ${name} in the result`)
    return
  }
  throw new Error('no failure')
}

describe('export/encoding/gbk-transcoder', () => {
  const text = 'id,名称\n1,"北京, 东城区"\n2,€5 “好”\r\n3,é·—\n'
  const utf8 = encoder.encode(text)

  it('writes the bytes iconv-lite writes, at every single cut and in 1-byte chunks', () => {
    const expected = gbkOf(text)
    for (let cut = 0; cut <= utf8.length; cut++) {
      expect(transcode(utf8, [cut]), `cut at ${cut}`).toEqual(expected)
    }
    const everyByte = Array.from({ length: utf8.length }, (_, i) => i)
    expect(transcode(utf8, everyByte)).toEqual(expected)
  })

  it('writes any GBK text as iconv-lite does, cut anywhere', () => {
    fc.assert(
      fc.property(
        gbkText(40),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
        (t, at) => {
          const bytes = encoder.encode(t)
          const cuts = at.map((f) => Math.floor(f * bytes.length)).sort((a, b) => a - b)
          const out = transcode(bytes, cuts)
          expect(out).toEqual(gbkOf(t))
          expect(iconv.decode(out, 'gbk', { stripBOM: false })).toBe(t)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('hands an all-ASCII chunk back as it is', () => {
    const ascii = encoder.encode('a,b,"c"\n'.repeat(100))
    expect(createGbkTranscoder().push(ascii)).toBe(ascii)
  })

  it('fails on a character GBK cannot hold, naming its code point', () => {
    expectFailure(() => transcode(encoder.encode('ok😀'), []), 'U+1F600')
    expectFailure(() => transcode(encoder.encode('ok😀'), [3, 4, 5]), 'U+1F600')
    expectFailure(() => transcode(encoder.encode('a\ud800'), []), 'U+FFFD')
    expectFailure(() => transcode(encoder.encode('ก'), []), 'U+0E01')
  })

  it('fails on a character cut by the end of the text or bytes that are not UTF-8', () => {
    const cut = encoder.encode('中').subarray(0, 2)
    expectFailure(() => transcode(cut, []), 'U+FFFD')
    expectFailure(() => transcode(new Uint8Array([0x61, 0x80, 0x62]), []), 'U+FFFD')
    expectFailure(() => transcode(new Uint8Array([0xe4, 0x41, 0x41]), []), 'U+FFFD')
  })
})
