/**
 * The curl session `npm run demo` prints: submit, wait, metadata, size, download, path, delete
 * (Kylin 5 dialect), a sync query passed through and the table list BI clients read. test/demo runs these very commands.
 */

export interface TryItStep {
  title: string
  /** A bash command; uses $G and $V4 from the prelude, and $ID once the submit has set it. */
  command: string
}

export function toTryItPrelude(gatewayUrl: string): string {
  return [
    `G=${gatewayUrl}/kylin/api/async_query`,
    `V4='Accept: application/vnd.apache.kylin-v4-public+json'`,
  ].join('\n')
}

export function toTryItSteps(gatewayUrl: string): TryItStep[] {
  // -w '\n' ends each JSON answer with a newline; the download's own -w replaces it.
  const admin = `curl -s -w '\\n' -u ADMIN:KYLIN -H "$V4"`
  return [
    {
      title: 'submit the biggest table (Kylin 5 dialect) and keep its id',
      command:
        `ID=$(${admin} -H 'Content-Type: application/json' \\\n` +
        `  -d '{"sql":"select * from SSB.P_LINEORDER","project":"ssb","include_header":true}' $G \\\n` +
        `  | sed -E 's/.*"query_id":"([^"]+)".*/\\1/'); echo "$ID"`,
    },
    {
      title: 'wait until it is SUCCESSFUL',
      command: `until ${admin} "$G/$ID/status?project=ssb" | grep -E 'SUCCESSFUL|FAILED'; do sleep 0.5; done`,
    },
    { title: 'column names and types', command: `${admin} "$G/$ID/metadata?project=ssb"` },
    { title: 'size of the CSV in bytes', command: `${admin} "$G/$ID/file_status?project=ssb"` },
    {
      title: 'download it',
      command: `${admin} -o result.csv -w '%{size_download} bytes\\n' "$G/$ID/result_download?project=ssb"`,
    },
    { title: 'where the gateway keeps it', command: `${admin} "$G/$ID/result_path?project=ssb"` },
    { title: 'delete it', command: `${admin} -X DELETE "$G/$ID?project=ssb"` },
    {
      title: 'a sync query, passed through to Kylin untouched',
      command:
        `curl -s -w '\\n' -u ADMIN:KYLIN -H 'Content-Type: application/json' \\\n` +
        `  -d '{"sql":"select lstg_format_name, sum(price) as gmv from kylin_sales group by 1","project":"learn_kylin"}' \\\n` +
        `  ${gatewayUrl}/kylin/api/query`,
    },
    {
      title: 'the tables and columns a BI client lists (kylinpy, Superset), passed through',
      command: `curl -s -w '\\n' -u ADMIN:KYLIN "${gatewayUrl}/kylin/api/tables_and_columns?project=learn_kylin"`,
    },
  ]
}

export function formatTryIt(gatewayUrl: string): string {
  const steps = toTryItSteps(gatewayUrl).map((s) => `# ${s.title}\n${s.command}`)
  return [toTryItPrelude(gatewayUrl), ...steps].join('\n\n')
}
