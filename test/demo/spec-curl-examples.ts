/**
 * Every curl example of the two API specs, copied verbatim, in the order a user runs them, and
 * the few edits needed to aim them at the demo (host, credentials, query id, project, a typo).
 */

export type SpecStep =
  | 'submit'
  | 'status'
  | 'metadata'
  | 'filestatus'
  | 'result_download'
  | 'result'
  | 'result_path'
  | 'delete_all'

export interface SpecCurlExample {
  spec: '000 (KAP v2)' | '001 (Kylin)'
  /** The section of the spec the example is under. */
  section: string
  step: SpecStep
  /** Exactly as printed in the spec. */
  original: string
}

/**
 * All 11: the 7 of 000_eec0a9db51e21a47.txt (Asyn Query, Query Status, Query Metadata Info,
 * Query Result File Status, Download Query Result, Query hdfs Path, Delete All Query Result
 * Files) and the 4 of 001_e8a10b7a39f187d3.txt (发起异步查询, 查询异步查询状态, 获取异步查询结果,
 * 清理异步查询结果). The specs show no other curl command.
 */
export const SPEC_CURL_EXAMPLES: readonly SpecCurlExample[] = [
  {
    spec: '000 (KAP v2)',
    section: 'Asyn Query',
    step: 'submit',
    original: `curl -X POST -H "Authorization: Basic XXXXXX" -H "Accept: application/vnd.apache.kylin-v2+json" -H "Content-Type:application/vnd.apache.kylin-v2+json" -d '{ "sql":"select * from kylin_sales", "separator":","，"project":"tpch_kap_24" }' http://host:port/kylin/api/async_query`,
  },
  {
    spec: '000 (KAP v2)',
    section: 'Query Status',
    step: 'status',
    original: `curl -X GET -H "Authorization: Basic XXXXXX" -H "Accept: application/vnd.apache.kylin-v2+json" -H "Content-Type:application/vnd.apache.kylin-v2+json" http://host:port/kylin/api/async_query/your_query_id/status`,
  },
  {
    spec: '000 (KAP v2)',
    section: 'Query Metadata Info',
    step: 'metadata',
    original: `curl -X GET -H "Authorization: Basic XXXXXX" -H "Accept: application/vnd.apache.kylin-v2+json" -H "Content-Type:application/vnd.apache.kylin-v2+json" http://host:port/kylin/api/async_query/your_query_id/metadata`,
  },
  {
    spec: '000 (KAP v2)',
    section: 'Query Result File Status',
    step: 'filestatus',
    original: `curl -X GET -H "Authorization: Basic XXXXXX" -H "Accept: application/vnd.apache.kylin-v2+json" -H "Content-Type:application/vnd.apache.kylin-v2+json" http://host:port/kylin/api/async_query/your_query_id/filestatus`,
  },
  {
    spec: '000 (KAP v2)',
    section: 'Download Query Result',
    step: 'result_download',
    original: `curl -X GET -H "Authorization: Basic XXXXXX" -H "Accept: application/vnd.apache.kylin-v2+json" -H "Content-Type:application/vnd.apache.kylin-v2+json" http://host:port/kylin/api/async_query/your_query_id/result_download`,
  },
  {
    spec: '000 (KAP v2)',
    section: 'Query hdfs Path',
    step: 'result_path',
    original: `curl -X GET -H "Authorization: Basic XXXXXX" -H "Accept: application/vnd.apache.kylin-v2+json" -H "Content-Type:application/vnd.apache.kylin-v2+json" http://host:port/kylin/api/async_query/your_query_id/result_path`,
  },
  {
    spec: '000 (KAP v2)',
    section: 'Delete All Query Result Files',
    step: 'delete_all',
    original: `curl -X DELETE -H "Authorization: Basic XXXXXX" -H "Accept: application/vnd.apache.kylin-v2+json" -H "Content-Type:application/vnd.apache.kylin-v2+json" http://host:port/kylin/api/async_query`,
  },
  {
    spec: '001 (Kylin)',
    section: '发起异步查询',
    step: 'submit',
    original: `curl -X POST -H "Authorization: Basic QURNSU46S1lMSU4=" -H "Content-Type: application/json" -d '{ "sql":"select * from p_lineorder limit 100", "project":"ssb" }' http://master:7070/kylin/api/async_query`,
  },
  {
    spec: '001 (Kylin)',
    section: '查询异步查询状态',
    step: 'status',
    original: `curl -X GET -H "Authorization: Basic QURNSU46S1lMSU4=" -H "Content-Type: application/json"  http://master:7070/kylin/api/async_query/43eeb967-e76a-4214-8932-70594d454013/status `,
  },
  {
    spec: '001 (Kylin)',
    section: '获取异步查询结果',
    step: 'result',
    original: `curl -X GET -H "Authorization: Basic QURNSU46S1lMSU4=" -H "Content-Type: application/json"  http://master:7070/kylin/api/async_query/43eeb967-e76a-4214-8932-70594d454012/result `,
  },
  {
    spec: '001 (Kylin)',
    section: '清理异步查询结果',
    step: 'delete_all',
    original: `curl -X DELETE -H "Authorization: Basic QURNSU46S1lMSU4=" -H "Content-Type: application/json"  http://master:7070/kylin/api/async_query`,
  },
]

/** The SQL each spec's submit runs, once adjusted, and the shape of its answer. */
export const SPEC_QUERIES = {
  '000 (KAP v2)': { sql: 'select * from kylin_sales', project: 'learn_kylin' },
  '001 (Kylin)': { sql: 'select * from p_lineorder limit 100', project: 'ssb' },
} as const

/**
 * The edits, and only these: the demo's address for `host:port` / `master:7070`; ADMIN:KYLIN
 * for the elided `Basic XXXXXX`; the submitted id for the placeholder and example ids; project
 * learn_kylin for 000's `tpch_kap_24` (kylin_sales lives there); and the full-width comma
 * (U+FF0C) that 000's submit body has after `","`, which makes it invalid JSON.
 */
export function adjustSpecCommand(
  original: string,
  target: { gatewayUrl: string; queryId?: string },
): string {
  let command = original
    .replace(/http:\/\/(?:host:port|master:7070)/g, target.gatewayUrl)
    .replace('Basic XXXXXX', 'Basic QURNSU46S1lMSU4=')
    .replace('"project":"tpch_kap_24"', '"project":"learn_kylin"')
    .replace('，', ',')
  if (target.queryId) {
    command = command.replace(
      /your_query_id|43eeb967-e76a-4214-8932-7059[0-9a-f]{8}/g,
      target.queryId,
    )
  }
  return command.trim()
}

/** Splits a command the way a POSIX shell does for these examples: blanks, '…' and "…". */
export function toShellWords(command: string): string[] {
  const words: string[] = []
  let word: string | null = null
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!
    if (ch === "'" || ch === '"') {
      const end = command.indexOf(ch, i + 1)
      if (end < 0) throw new Error(`unclosed ${ch} in: ${command}`)
      word = (word ?? '') + command.slice(i + 1, end)
      i = end
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word)
      word = null
    } else {
      word = (word ?? '') + ch
    }
  }
  if (word !== null) words.push(word)
  return words
}
