/**
 * Queries held RUNNING on the loopback fake Kylin, their progress moving, until a test releases
 * them: for waits and live events. Tests only, Node only.
 */
import { write, type FakeKylin } from './fake-kylin.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const COLUMN = {
  isNullable: 1,
  displaySize: 16,
  label: 'N',
  name: 'N',
  schemaName: null,
  catelogName: null,
  tableName: null,
  precision: 16,
  scale: 0,
  columnType: 12,
  columnTypeName: 'VARCHAR',
  readOnly: true,
}

/** A cell long enough that each row passes the transcoder's 16 KiB flush: progress shows. */
const LONG_CELL = 'x'.repeat(17 * 1024)

/**
 * Takes over the fake's query call: every query answers rows slowly (one every 150 ms, so its
 * progress moves) until `release`, then ends its body. `restore` gives the fake back its answers.
 */
export function holdQueries(kylin: FakeKylin) {
  let released = false
  kylin.setQueryHandler(async (_req, res, ctx) => {
    if (!ctx.user) return ctx.fallback()
    res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8' })
    await write(res, `{"columnMetas":[${JSON.stringify(COLUMN)}],"results":[["row 0"]`)
    for (let i = 1; !released && !res.destroyed; i++) {
      await sleep(150)
      if (!(await write(res, `,["${i} ${LONG_CELL}"]`))) return
    }
    await write(res, '],"isException":false,"exceptionMessage":null}')
    res.end()
  })
  return {
    release() {
      released = true
    },
    restore() {
      released = true
      kylin.setQueryHandler(null)
    },
  }
}
