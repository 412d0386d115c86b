import { describe, expect, it } from 'vitest'
import type { QueryRecord, ShadowVerdict } from '../../src/domain/query.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import { collectShadowReport } from '../../src/shadow/shadow-report.ts'
import { makeRecord } from '../registry/contract.ts'

const verdict = (match: boolean | null, finishedAt: number): ShadowVerdict => ({
  status: match === null ? 'SKIPPED' : 'SUCCESSFUL',
  match,
  rows: 4,
  primaryRows: 3,
  sha256: null,
  firstDifference: match === false ? 'row counts differ: primary 3 rows, shadow 4' : null,
  finishedAt,
})

async function registryWith(records: QueryRecord[]) {
  const registry = createMemoryRegistry({ maxRecords: 2000 })
  for (const record of records) await registry.create(record)
  return registry
}

describe('collectShadowReport', () => {
  it('lists the mismatches of the window, newest first, and counts what was compared', async () => {
    const record = (id: string, shadow?: ShadowVerdict): QueryRecord => ({
      ...makeRecord(id, 'SUCCESSFUL'),
      owner: 'ANALYST',
      ...(shadow ? { shadow, sqlDigest: `digest-${id}` } : {}),
    })
    const registry = await registryWith([
      record('old-mismatch', verdict(false, 50)),
      record('mismatch-a', verdict(false, 150)),
      record('mismatch-b', verdict(false, 300)),
      record('match', verdict(true, 200)),
      record('skipped', verdict(null, 200)),
      record('unshadowed'),
    ])
    const report = await collectShadowReport(registry, 100)
    expect(report).toMatchObject({ since: 100, compared: 3, matched: 1, truncated: false })
    expect(report.mismatches).toEqual([
      {
        id: 'mismatch-b',
        project: 'learn_kylin',
        owner: 'ANALYST',
        sqlDigest: 'digest-mismatch-b',
        primaryRows: 3,
        shadowRows: 4,
        shadowStatus: 'SUCCESSFUL',
        firstDifference: 'row counts differ: primary 3 rows, shadow 4',
        finishedAt: 300,
      },
      expect.objectContaining({ id: 'mismatch-a', finishedAt: 150 }),
    ])
  })

  it('keeps the 1,000 newest and says it left some out', async () => {
    const records = Array.from({ length: 1003 }, (_, i) => ({
      ...makeRecord(`q${i}`, 'SUCCESSFUL'),
      shadow: verdict(false, 1000 + i),
    }))
    const report = await collectShadowReport(await registryWith(records), 0)
    expect(report.mismatches).toHaveLength(1000)
    expect(report.mismatches[0]!.id).toBe('q1002')
    expect(report.truncated).toBe(true)
    expect(report.compared).toBe(1003)
  })
})
