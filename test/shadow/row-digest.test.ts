import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { Cell } from '../../src/export/types.ts'
import {
  createOrderedDigest,
  createUnorderedDigest,
  hashBatch,
  type ResultDigest,
} from '../../src/shadow/row-digest.ts'
import { toHex, type IncrementalHash } from '../../src/sha256.ts'

function nodeHash(): IncrementalHash {
  const hash = createHash('sha256')
  return {
    update: (chunk) => void hash.update(chunk),
    digest: async () => toHex(hash.digest()),
  }
}

/** Rows as one batch, split in batches of `size` rows, each fed to the digest. */
async function digestOf(rows: Cell[][], digest: ResultDigest, size = rows.length || 1) {
  for (let start = 0; start < rows.length; start += size) {
    const part = rows.slice(start, start + size)
    const cells = part.flat()
    let end = 0
    const rowEnds = part.map((row) => (end += row.length))
    const hashes = hashBatch({ cells, rowEnds })
    digest.add(hashes, 0, hashes.length)
  }
  return digest.finish()
}

const ROWS: Cell[][] = Array.from({ length: 200 }, (_, i) => [String(i), `name ${i}`, null])

function shuffled<T>(items: T[], seed: number): T[] {
  const copy = [...items]
  let state = seed
  for (let i = copy.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    const j = state % (i + 1)
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy
}

describe('row hashes', () => {
  it('tell apart rows that differ in a cell, in where cells split, or in cell count', () => {
    const hashes = (rows: Cell[][]) => {
      let end = 0
      return [...hashBatch({ cells: rows.flat(), rowEnds: rows.map((r) => (end += r.length)) })]
    }
    const [a, b, c, d, e] = [['ab', 'c'], ['a', 'bc'], ['ab', 'd'], ['ab', 'c', null], ['abc']].map(
      (row) => hashes([row]),
    )
    const all = [a, b, c, d, e].map((h) => h!.join(':'))
    expect(new Set(all).size).toBe(5)
  })

  it('read null and the empty string as the same cell, as a stored CSV does', () => {
    const one = hashBatch({ cells: ['x', null], rowEnds: [2] })
    const two = hashBatch({ cells: ['x', ''], rowEnds: [2] })
    expect([...one]).toEqual([...two])
  })
})

describe('the order-insensitive digest', () => {
  it('is the same for the same rows in any order and any batch split', async () => {
    const first = await digestOf(ROWS, createUnorderedDigest())
    for (const seed of [1, 2, 3]) {
      expect(await digestOf(shuffled(ROWS, seed), createUnorderedDigest(), 7 * seed)).toBe(first)
    }
  })

  it('changes with one changed cell, a missing row or a repeated one', async () => {
    const first = await digestOf(ROWS, createUnorderedDigest())
    const changed = ROWS.map((row, i) => (i === 57 ? [row[0]!, 'other', null] : row))
    expect(await digestOf(changed, createUnorderedDigest())).not.toBe(first)
    const digest = createUnorderedDigest()
    expect(await digestOf(ROWS.slice(1), digest)).not.toBe(first)
    expect(digest.rows).toBe(199)
    // A row swapped for a copy of another: a multiset, not a set.
    const repeated = ROWS.map((row, i) => (i === 1 ? ROWS[0]! : row))
    expect(await digestOf(repeated, createUnorderedDigest())).not.toBe(first)
  })

  it('keeps its sum within 64 bits over many rows', async () => {
    const digest = createUnorderedDigest()
    const many: Cell[][] = Array.from({ length: 50_000 }, (_, i) => [String(i)])
    const hex = await digestOf(many, digest, 4096)
    expect(hex).toMatch(/^[0-9a-f]{16}$/)
    expect(digest.rows).toBe(50_000)
  })
})

describe('the ordered digest', () => {
  it('is the same for the same rows in the same order, whatever the batch split', async () => {
    const first = await digestOf(ROWS, createOrderedDigest(nodeHash))
    expect(await digestOf(ROWS, createOrderedDigest(nodeHash), 13)).toBe(first)
    expect(first).toMatch(/^[0-9a-f]{64}$/)
  })

  it('changes when two rows swap places', async () => {
    const first = await digestOf(ROWS, createOrderedDigest(nodeHash))
    const swapped = [ROWS[1]!, ROWS[0]!, ...ROWS.slice(2)]
    expect(await digestOf(swapped, createOrderedDigest(nodeHash))).not.toBe(first)
  })
})
