/** A client that goes away frees its watcher's place at once on the Node server. */
import { startNodeTarget } from '../../conformance/node-target.ts'
import { describeWatchDisconnect } from '../../support/watch-disconnect-cases.ts'

// Node aborts a departed client's request at once: a minute's wait gives its place back at once.
describeWatchDisconnect('node', () => startNodeTarget(), { seconds: 60, freedWithinMs: 5000 })
