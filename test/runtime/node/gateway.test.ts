/**
 * The Node server's connection timeouts, over real sockets: an idle keep-alive connection
 * outlives a load balancer's idle timeout, and stays configurable.
 */
import { Agent, request } from 'node:http'
import { afterAll, describe, expect, it } from 'vitest'
import type { NodeGateway } from '../../../src/runtime/node/gateway.ts'
import { startTestGateway } from './test-gateway.ts'

const gateways: NodeGateway[] = []

async function startGateway(settings: Record<string, string> = {}) {
  const gateway = await startTestGateway(settings)
  gateways.push(gateway)
  return gateway
}

/** GET /healthz through `agent`; whether the request went out on a socket used before. */
function getHealth(agent: Agent, url: string): Promise<{ status: number; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/healthz`, { agent }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }))
    })
    req.on('error', reject)
    req.end()
  })
}

const idle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

afterAll(async () => {
  for (const gateway of gateways) await gateway.close()
})

describe('Node server timeouts', () => {
  it('keeps an idle keep-alive connection past 6 s by default, so a pooled client reuses it', async () => {
    const gateway = await startGateway()
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      expect(await getHealth(agent, gateway.url)).toEqual({ status: 200, reused: false })
      await idle(6_000)
      expect(await getHealth(agent, gateway.url)).toEqual({ status: 200, reused: true })
    } finally {
      agent.destroy()
    }
  }, 15_000)

  it('closes an idle connection after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const gateway = await startGateway({ KEEP_ALIVE_TIMEOUT_MS: '300' })
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      expect(await getHealth(agent, gateway.url)).toEqual({ status: 200, reused: false })
      await idle(1_000)
      expect(await getHealth(agent, gateway.url)).toEqual({ status: 200, reused: false })
    } finally {
      agent.destroy()
    }
  })
})
