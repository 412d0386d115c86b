/**
 * Message catalogue in English and Chinese. English texts are Kylin 5's own, byte for byte
 * (typographic apostrophes included), so clients that match on them keep working.
 */

export type Language = 'en' | 'cn'

const CATALOG = {
  QUERY_RUNNING_SUBMIT: { en: 'query still running', cn: '查询仍在运行' },
  QUERY_RUNNING: { en: 'still running', cn: '仍在运行' },
  QUERY_SUCCESSFUL: { en: 'await fetching results', cn: '等待获取结果' },
  QUERY_MISSING: { en: 'query status is lost', cn: '查询状态已丢失' },
  QUERY_NOT_FOUND: {
    en: 'Can’t find the query by this query ID in this project. Please check and try again.',
    cn: '无法在该项目中根据此查询 ID 找到查询，请检查后重试。',
  },
  QUERY_NOT_READY: {
    en: 'The query result isn’t ready yet (status %s). Please wait until the status is SUCCESSFUL.',
    cn: '查询结果尚未就绪（状态 %s），请等待状态变为 SUCCESSFUL 后重试。',
  },
  DENIED_STATUS: {
    en: 'Access denied. Only task submitters or admin users can get the query status',
    cn: '拒绝访问。仅任务提交者或管理员可以获取查询状态',
  },
  DENIED_FILE_STATUS: {
    en: 'Access denied. Only task submitters or admin users can get the file status',
    cn: '拒绝访问。仅任务提交者或管理员可以获取文件状态',
  },
  DENIED_METADATA: {
    en: 'Access denied. Only task submitters or admin users can get the metadata',
    cn: '拒绝访问。仅任务提交者或管理员可以获取元数据',
  },
  DENIED_DOWNLOAD: {
    en: 'Access denied. Only task submitters or admin users can download the query results',
    cn: '拒绝访问。仅任务提交者或管理员可以下载查询结果',
  },
  DENIED_PATH: {
    en: 'Access denied. Only task submitters or admin users can get the query path',
    cn: '拒绝访问。仅任务提交者或管理员可以获取查询路径',
  },
  DENIED_DELETE: {
    en: 'Access denied. Only admin users can delete the query results',
    cn: '拒绝访问。仅管理员可以删除查询结果',
  },
  INCLUDE_HEADER_MOVED: {
    en: 'Notice：Now we move the "include_header" parameter to Submit Async Query API, so the parameter here doesn\'t work.Please read user manual for details.',
    cn: '注意：“include_header”参数已移至提交异步查询接口，此处的参数不再生效。详情请阅读用户手册。',
  },
  FORMAT_UNSUPPORTED: {
    en: 'Format %s unsupported. Only %s are supported',
    cn: '不支持格式 %s，仅支持 %s',
  },
  ENCODE_UNSUPPORTED: {
    en: 'Encoding %s unsupported. Only %s are supported',
    cn: '不支持编码 %s，仅支持 %s',
  },
  HEADER_FLAG_INVALID: {
    en: 'include_header must be true or false, not "%s".',
    cn: 'include_header 只能是 true 或 false，而不是 “%s”。',
  },
  CONVERSION_NEEDS_CSV: {
    en: 'This result was written as %s at submit and can be downloaded only as written. A result written as csv (the default) can be downloaded in any format, encoding and header choice; submit the query again without format to get one.',
    cn: '该结果在提交时以 %s 写出，只能按原样下载。以 csv（默认）写出的结果可按任意格式、编码和表头选项下载；如需转换，请不带 format 重新提交查询。',
  },
  CONVERSION_SEPARATOR: {
    en: 'This result was written with a separator holding a quote or a line break, so it cannot be read back to convert it; download it as written.',
    cn: '该结果的分隔符包含引号或换行，无法读回转换；请按原样下载。',
  },
  TIME_FORMAT_INVALID: {
    en: 'The time format is invalid. Please enter the date in the format “yyyy-MM-dd HH:mm:ss”.',
    cn: '时间格式无效，请按 “yyyy-MM-dd HH:mm:ss” 格式输入日期。',
  },
  DELETE_NEEDS_BOTH: {
    en: 'To delete old results send both project and older_than; to delete every result send neither.',
    cn: '删除旧结果需同时提供 project 和 older_than；删除全部结果则两者都不提供。',
  },
  QUEUE_FULL: {
    en: 'Query failed cause the total number of async queries hit the upper limit set by Admin.Please wait and try again.',
    cn: '异步查询总数已达到管理员设置的上限，查询失败。请稍后重试。',
  },
  REGISTRY_FULL: {
    en: 'All %s queries the gateway keeps (MAX_QUERIES) are still running, so no new query can be recorded. Please wait for one to finish and try again.',
    cn: '网关保存的全部 %s 个查询（MAX_QUERIES）都仍在运行，无法记录新查询。请等待某个查询结束后重试。',
  },
  NOT_RECORDED: {
    en: 'The gateway could not record the query, so nothing was queued: its %s refused a write (%s). Please try again later.',
    cn: '网关无法记录该查询，因此未排队：其%s拒绝写入（%s）。请稍后重试。',
  },
  SHUTTING_DOWN: {
    en: 'The gateway is shutting down and takes no new queries. Please submit again shortly.',
    cn: '网关正在关闭，不再接受新查询。请稍后重新提交。',
  },
  DENIED_STOP: {
    en: 'Access denied. Only admin users can stop the query',
    cn: '拒绝访问。仅管理员可以停止查询',
  },
  QUERY_NOT_RUNNING: {
    en: 'Query is not running. please check',
    cn: '查询未在运行，请检查。',
  },
  QUERY_STOPPING: {
    en: 'Async Query（id=%s） will be canceled',
    cn: '异步查询（id=%s）将被取消',
  },
  RANGE_NOT_SATISFIABLE: {
    en: 'The requested range is outside the result, which has %s bytes.',
    cn: '请求的范围超出了结果大小（%s 字节）。',
  },
  IDEMPOTENCY_CONFLICT: {
    en: 'This Idempotency-Key was already used for a different request. Use a new key for a new query.',
    cn: '该 Idempotency-Key 已用于另一个请求。新查询请使用新的键。',
  },
  IDEMPOTENCY_KEY_INVALID: {
    en: 'The Idempotency-Key header must be 1 to 200 visible ASCII characters.',
    cn: 'Idempotency-Key 请求头必须是 1 到 200 个可见 ASCII 字符。',
  },
  WAIT_INVALID: {
    en: 'wait must be a whole number of seconds from 0 to 60, e.g. ?wait=30.',
    cn: 'wait 必须是 0 到 60 之间的整数秒，例如 ?wait=30。',
  },
  TOO_MANY_WATCHERS: {
    en: 'Too many clients are waiting on queries here (at most %s at once). Please poll the status instead, or try again shortly.',
    cn: '等待查询的客户端过多（同时最多 %s 个）。请改为轮询状态，或稍后重试。',
  },
  QUERY_SUCCESS_SUBMIT: { en: 'query success', cn: '查询成功' },
  QUERY_REUSED: {
    en: 'query success: the result of the same query, finished earlier, was reused',
    cn: '查询成功：复用了先前完成的相同查询的结果',
  },
  DENIED_LIST_USER: {
    en: 'Access denied. Only admin users can list the queries of another user',
    cn: '拒绝访问。仅管理员可以列出其他用户的查询',
  },
  DENIED_SHADOW_REPORT: {
    en: 'Access denied. Only admin users can read the shadow report',
    cn: '拒绝访问。仅管理员可以查看影子运行报告',
  },
  LIST_CURSOR_INVALID: {
    en: 'The cursor is not one this list gave out. Send the next_cursor of the previous page as it was, or leave it out to start from the newest query.',
    cn: '该 cursor 不是本列表给出的。请原样发送上一页的 next_cursor，或不带它从最新的查询开始。',
  },
  SQL_EMPTY: {
    en: 'SQL can’t be empty. Please check and try again.',
    cn: 'SQL 不能为空，请检查后重试。',
  },
  BAD_BODY: {
    en: 'The request body is invalid: %s',
    cn: '请求体无效：%s',
  },
  BAD_PARAMETER: {
    en: 'A parameter of the request is invalid: %s',
    cn: '请求参数无效：%s',
  },
  BAD_JSON: {
    en: 'The request body is not valid JSON. Please send a JSON object.',
    cn: '请求体不是有效的 JSON，请发送一个 JSON 对象。',
  },
  BODY_TOO_LARGE: {
    en: 'The request body is larger than the limit of %s bytes.',
    cn: '请求体超过了 %s 字节的上限。',
  },
  UNAUTHORIZED: {
    en: 'Unauthorized. Please send the credentials of a Kylin user (HTTP Basic authentication).',
    cn: '未认证。请提供 Kylin 用户的凭据（HTTP Basic 认证）。',
  },
  BAD_CREDENTIALS: {
    en: 'Unauthorized. The upstream Kylin rejected these credentials.',
    cn: '未认证。上游 Kylin 拒绝了这些凭据。',
  },
  UPSTREAM_AUTH_UNAVAILABLE: {
    en: 'Cannot verify the credentials: %s',
    cn: '无法验证凭据：%s',
  },
  METRICS_TOKEN_REQUIRED: {
    en: 'Unauthorized. /metrics needs the header Authorization: Bearer <METRICS_TOKEN>.',
    cn: '未认证。/metrics 需要请求头 Authorization: Bearer <METRICS_TOKEN>。',
  },
  NOT_FOUND_ROUTE: {
    en: 'No such API: %s %s',
    cn: '没有这个接口：%s %s',
  },
  INTERNAL: {
    en: 'Internal error in the gateway. The details are in its log under request id %s.',
    cn: '网关内部错误，详情见日志中请求 ID %s 的记录。',
  },
  FOLLOW_FLAG_INVALID: {
    en: 'follow must be 1, true, 0 or false, not "%s".',
    cn: 'follow 只能是 1、true、0 或 false，而不是 “%s”。',
  },
  FOLLOW_WHOLE_ONLY: {
    en: 'A running result is followed whole, as it is written, in the form chosen at submit: Range, format, encode and include_header apply once the query is SUCCESSFUL. Ask again without follow then.',
    cn: '运行中的结果只能按提交时选择的形式、边写边整体跟随下载：Range、format、encode 和 include_header 要等查询变为 SUCCESSFUL 后才生效，届时请不带 follow 再次请求。',
  },
  FOLLOWERS_FULL: {
    en: 'At most %s clients may follow one running query at once. Please try again later, or download the result once the query is SUCCESSFUL.',
    cn: '同一个运行中的查询最多允许 %s 个客户端同时跟随下载。请稍后重试，或在查询变为 SUCCESSFUL 后下载结果。',
  },
  RESULT_LOST: {
    en: 'The query result is no longer in the store. Please submit the query again.',
    cn: '查询结果已不在存储中，请重新提交查询。',
  },
  WEBHOOKS_OFF: {
    en: 'callback_url was given, but webhooks are off on this gateway. To turn them on, the operator sets WEBHOOK_SECRET (whsec_<base64>) and WEBHOOK_ALLOWED_HOSTS (the hosts callbacks may go to).',
    cn: '提供了 callback_url，但本网关未开启 webhook。如需开启，请管理员设置 WEBHOOK_SECRET（whsec_<base64>）和 WEBHOOK_ALLOWED_HOSTS（允许回调的主机）。',
  },
  CALLBACK_URL_INVALID: {
    en: 'callback_url is not a valid URL (at most 2048 characters). Please send an absolute http:// or https:// URL.',
    cn: 'callback_url 不是有效的 URL（最多 2048 个字符），请发送完整的 http:// 或 https:// URL。',
  },
  CALLBACK_URL_SCHEME: {
    en: 'callback_url must be an http:// or https:// URL, not %s.',
    cn: 'callback_url 必须是 http:// 或 https:// URL，而不是 %s。',
  },
  CALLBACK_URL_USERINFO: {
    en: 'callback_url must not carry a user or password (user:password@). Put a token in the path or query string instead.',
    cn: 'callback_url 不能包含用户名或密码（user:password@），请将令牌放在路径或查询参数中。',
  },
  CALLBACK_URL_NOT_ALLOWED: {
    en: 'callback_url goes to %s, which is not in WEBHOOK_ALLOWED_HOSTS. Use an allowed host, or ask the operator to add this one.',
    cn: 'callback_url 指向 %s，不在 WEBHOOK_ALLOWED_HOSTS 中。请使用允许的主机，或请管理员添加该主机。',
  },
  CALLBACK_URL_PRIVATE: {
    en: 'callback_url goes to %s, a %s address, which webhooks may reach only when WEBHOOK_ALLOWED_HOSTS names that address itself.',
    cn: 'callback_url 指向 %s（%s 地址），只有 WEBHOOK_ALLOWED_HOSTS 列出该地址本身时 webhook 才能访问。',
  },
  LINKS_OFF: {
    en: 'Signed links are off on this gateway. Its operator turns them on by setting LINK_SECRET (--link-secret) to a random secret of at least 32 characters.',
    cn: '此网关未启用签名链接。运维人员可将 LINK_SECRET（--link-secret）设为至少 32 个字符的随机密钥以启用。',
  },
  LINK_TTL_INVALID: {
    en: 'ttl must be a whole number of seconds from 1 to %s (LINK_MAX_TTL), not %s.',
    cn: 'ttl 必须是 1 到 %s（LINK_MAX_TTL）之间的整数秒，而不是 %s。',
  },
  LINK_INVALID: {
    en: 'This link is not valid: it was changed, cut short, or signed with a key this gateway no longer has. Ask the query’s owner for a new link.',
    cn: '此链接无效：它被修改、截断，或由本网关已不再持有的密钥签名。请向查询的所有者索取新链接。',
  },
  LINK_EXPIRED: {
    en: 'This link expired at %s. Ask the query’s owner for a new link.',
    cn: '此链接已于 %s 过期。请向查询的所有者索取新链接。',
  },
} as const satisfies Record<string, Record<Language, string>>

export type MessageId = keyof typeof CATALOG

/** Picks `cn` for `cn` / `zh…` Accept-Language values, else English (Kylin's default). */
export function toLanguage(acceptLanguage: string | undefined | null): Language {
  const first = (acceptLanguage ?? '').trim().toLowerCase()
  return first.startsWith('cn') || first.startsWith('zh') ? 'cn' : 'en'
}

/** The message text in `lang`, with each `%s` replaced by the next argument. */
export function translate(id: MessageId, lang: Language, args: readonly (string | number)[] = []) {
  let i = 0
  return CATALOG[id][lang].replace(/%s/g, () => String(args[i++] ?? ''))
}
