/**
 * The conformance suite against the Node gateway with EXPORT_THREADS=0: every export, of queries
 * and of download-time conversions, runs on the main thread (as where one core is all there is,
 * or every export thread is busy), and clients see the same API. The other Node targets run with
 * the default, one export thread.
 */
import { startNodeTarget } from './node-target.ts'
import { describeConformance } from './suite.ts'

describeConformance('node without export threads', () => startNodeTarget({ EXPORT_THREADS: '0' }))
