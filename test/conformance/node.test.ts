/** The conformance suite against the Node gateway: a real server, fs store, undici upstream. */
import { startNodeTarget } from './node-target.ts'
import { describeConformance } from './suite.ts'

describeConformance('node', () => startNodeTarget())
