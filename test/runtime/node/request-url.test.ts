/** The URL of a fetch call, from each form of its first argument. Node only. */
import { describe, expect, it } from 'vitest'
import { requestUrlOf } from '../../../src/runtime/node/request-url.ts'

describe('runtime/node/request-url', () => {
  it('reads a string, a URL and a Request alike', () => {
    const href = 'http://kylin:7070/kylin/api/query?x=1'
    expect(requestUrlOf(href)).toBe(href)
    expect(requestUrlOf(new URL(href))).toBe(href)
    expect(requestUrlOf(new Request(href))).toBe(href)
  })
})
