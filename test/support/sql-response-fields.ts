/**
 * The top-level fields of Kylin 2–4's SQLResponse, in the order Jackson writes them: the shape
 * every fake or emulated upstream Kylin must answer POST /kylin/api/query with. Portable.
 */
export const SQL_RESPONSE_FIELDS = [
  'columnMetas',
  'results',
  'cube',
  'affectedRowCount',
  'isException',
  'exceptionMessage',
  'duration',
  'totalScanCount',
  'totalScanBytes',
  'hitExceptionCache',
  'storageCacheUsed',
  'traceUrl',
  'pushDown',
  'partial',
] as const
