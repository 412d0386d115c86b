/**
 * The answer of a bounded registry whose every record is RUNNING: 429, retry shortly. Portable.
 * One definition, so every registry (memory, Redis) answers clients the same way.
 */
import { GatewayError } from '../errors.ts'

export function toRegistryFullError(maxRecords: number): GatewayError {
  return new GatewayError(
    429,
    { id: 'REGISTRY_FULL', args: [maxRecords] },
    { errorCode: 'KE-020040002', headers: { 'Retry-After': '5' } },
  )
}
