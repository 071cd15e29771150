import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Forge } from '@bzzz/forge'
import { allowedHosts, startHttp, type HttpServer } from './http.js'
import type { BzzzNode } from './node.js'
import { testForge, testNode } from './test-utils.js'

let forge: Forge
let node: BzzzNode
let http: HttpServer
let drained = 0

function call (path: string, options: { method?: string, host?: string, token?: string, port?: number } = {}): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: options.port ?? http.port,
      path,
      method: options.method ?? 'GET',
      headers: {
        host: options.host ?? `127.0.0.1:${options.port ?? http.port}`,
        ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {})
      }
    }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('error', reject)
    req.end()
  })
}

beforeAll(async () => {
  forge = await testForge(['alpha'], [])
  node = await testNode({ name: 'alpha', forge, executor: false })
  await node.start()
  http = await startHttp({ node, token: 'secret-token-123', onDrain: () => { drained++ } })
})

afterAll(async () => {
  await http.close()
  await node.kill()
  await forge.close()
})

describe('HTTP interface', () => {
  it('answers status, peers, tasks, log and metrics to its own Host', async () => {
    const status = await call('/api/status')
    expect(status.status).toBe(200)
    expect(JSON.parse(status.body)).toMatchObject({ nodeId: node.nodeId, phase: 'running' })
    for (const path of ['/api/peers', '/api/tasks', '/api/log', '/']) expect((await call(path)).status).toBe(200)
    expect((await call('/api/status', { host: `localhost:${http.port}` })).status).toBe(200)
    const metrics = await call('/metrics')
    expect(metrics.body).toContain('bzzz_tasks')
    expect(metrics.body).toContain('bzzz_github_requests_total')
    expect(metrics.body).toContain('bzzz_mesh_peers')
    expect(metrics.body).toContain('bzzz_publishing_tasks 0')
  })

  it('refuses a foreign Host (DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${http.port}`, '127.0.0.1:1', `127.0.0.1.evil.example:${http.port}`]) {
      const res = await call('/api/status', { host })
      expect(res.status).toBe(403)
    }
  })

  it('refuses a state change without the token, and takes it with the token', async () => {
    expect((await call('/api/drain', { method: 'POST' })).status).toBe(401)
    expect((await call('/api/drain', { method: 'POST', token: 'wrong-token-1234' })).status).toBe(401)
    expect(drained).toBe(0)
    expect((await call('/api/drain', { method: 'POST', token: 'secret-token-123' })).status).toBe(202)
    expect(drained).toBe(1)
  })

  it('bound to another address, needs the token for every request', async () => {
    const wide = await startHttp({ node, host: '0.0.0.0', token: 'secret-token-123' })
    try {
      const res = await call('/api/status', { port: wide.port, host: `0.0.0.0:${wide.port}` })
      expect(res.status).toBe(401)
      const ok = await call('/api/status', { port: wide.port, host: `0.0.0.0:${wide.port}`, token: 'secret-token-123' })
      expect(ok.status).toBe(200)
    } finally {
      await wide.close()
    }
  })

  it('lists the Host values it answers to', () => {
    expect([...allowedHosts('127.0.0.1', 7701)].sort()).toEqual(['127.0.0.1:7701', '[::1]:7701', 'localhost:7701'])
    expect([...allowedHosts('10.0.0.5', 7701)]).toEqual(['10.0.0.5:7701'])
  })
})
