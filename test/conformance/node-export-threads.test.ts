/**
 * The conformance suite against the Node gateway with EXPORT_THREADS: every export, of queries
 * and of download-time conversions, runs on export threads, and clients see the same API.
 */
import { startNodeTarget } from './node-target.ts'
import { describeConformance } from './suite.ts'

describeConformance('node with export threads', () => startNodeTarget({ EXPORT_THREADS: '2' }))
