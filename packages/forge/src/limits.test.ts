import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { createForge } from './forge.js'
import type { Forge, ForgeInit } from './forge.js'
import { sign } from './webhooks.js'
import { baseInit, waitFor } from './test-utils.js'

const REPO = '/repos/org/tasks'
const HOUR = 3_600_000

/** A raw request (no client retries, no client throttling): status, headers and JSON body. */
async function call (forge: Forge, method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number, headers: Headers, json: Record<string, unknown> }> {
  const res = await fetch(`${forge.url}${path}`, {
    method,
    headers: { accept: 'application/vnd.github+json', ...(token != null ? { authorization: `token ${token}` } : {}), ...(body != null ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body != null ? { body: JSON.stringify(body) } : {})
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, json: text === '' ? {} : JSON.parse(text) as Record<string, unknown> }
}

const comment = async (forge: Forge, token = 'tok-alice'): Promise<{ status: number, headers: Headers, json: Record<string, unknown> }> =>
  await call(forge, 'POST', `${REPO}/issues/1/comments`, token, { body: 'x' })

describe('rate limits and faults, answered as GitHub answers them', () => {
  const forges: Forge[] = []
  let t = Date.UTC(2030, 0, 1)
  const start = async (extra: Partial<ForgeInit> = {}): Promise<Forge> => {
    const forge = await createForge(baseInit({ now: () => t, ...extra }))
    forges.push(forge)
    return forge
  }
  afterEach(async () => {
    await Promise.all(forges.splice(0).map(async (f) => { await f.close() }))
    t = Date.UTC(2030, 0, 1)
  })

  it('primary limit: 403, remaining 0, reset at the end of the hour window; a new window restores it', async () => {
    const forge = await start({ rateLimit: { primaryLimit: 3 } })
    const first = await call(forge, 'GET', REPO, 'tok-alice')
    expect(first.headers.get('x-ratelimit-limit')).toBe('3')
    expect(first.headers.get('x-ratelimit-remaining')).toBe('2')
    expect(first.headers.get('x-ratelimit-used')).toBe('1')
    expect(first.headers.get('x-ratelimit-resource')).toBe('core')
    const reset = Number(first.headers.get('x-ratelimit-reset'))
    expect(reset).toBe(Math.ceil((t + HOUR) / 1000))
    await call(forge, 'GET', REPO, 'tok-alice')
    await call(forge, 'GET', REPO, 'tok-alice')
    const limited = await call(forge, 'GET', REPO, 'tok-alice')
    expect(limited.status).toBe(403)
    expect(limited.json.message).toMatch(/^API rate limit exceeded for user ID \d+/)
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(limited.headers.get('x-ratelimit-reset')).toBe(String(reset))
    expect(limited.headers.get('retry-after')).toBeNull()
    // Other users have their own budget; GET /rate_limit is free.
    expect((await call(forge, 'GET', REPO, 'tok-bob')).status).toBe(200)
    expect(((await call(forge, 'GET', '/rate_limit', 'tok-alice')).json.rate as { remaining: number }).remaining).toBe(0)
    expect(forge.rateLimitUsage('alice')).toMatchObject({ used: 3, remaining: 0 })
    t += HOUR
    expect((await call(forge, 'GET', REPO, 'tok-alice')).status).toBe(200)
  })

  it('primary limit without a token is per address and lower, and can answer 429', async () => {
    const forge = await start({ rateLimit: { anonymousLimit: 1, primaryStatus: 429 } })
    expect((await call(forge, 'GET', REPO)).headers.get('x-ratelimit-limit')).toBe('1')
    const limited = await call(forge, 'GET', REPO)
    expect(limited.status).toBe(429)
    expect(limited.json.message).toMatch(/API rate limit exceeded for/)
  })

  it('secondary limit on concurrent requests: 403 with retry-after, x-ratelimit-remaining not 0', async () => {
    const forge = await start({ rateLimit: { concurrent: 2 }, faults: { latencyMs: 300 } })
    const results = await Promise.all([0, 1, 2, 3].map(async () => await call(forge, 'GET', REPO, 'tok-alice')))
    const limited = results.filter((r) => r.status === 403)
    expect(results.filter((r) => r.status === 200)).toHaveLength(2)
    expect(limited).toHaveLength(2)
    for (const r of limited) {
      expect(r.json.message).toMatch(/secondary rate limit/)
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(r.headers.get('x-ratelimit-remaining')).not.toBe('0')
    }
  })

  it('secondary limit on points per minute: writes cost more than reads; retry-after tells when', async () => {
    const forge = await start({ rateLimit: { pointsPerMinute: 12, readPoints: 1, writePoints: 5, contentPerMinute: 100 } })
    expect((await comment(forge)).status).toBe(201)
    t += 10_000
    expect((await comment(forge)).status).toBe(201)
    expect((await call(forge, 'GET', REPO, 'tok-alice')).status).toBe(200)
    expect((await call(forge, 'GET', REPO, 'tok-alice')).status).toBe(200)
    // 12 points spent: a read (1) no longer fits, let alone a write.
    const limited = await call(forge, 'GET', REPO, 'tok-alice')
    expect(limited.status).toBe(403)
    expect(limited.json.message).toMatch(/secondary rate limit/)
    expect(Number(limited.headers.get('retry-after'))).toBe(50)
    t += 50_000
    expect((await call(forge, 'GET', REPO, 'tok-alice')).status).toBe(200)
  })

  it('secondary limits on content creation, per minute and per hour, can answer 429', async () => {
    const forge = await start({ rateLimit: { contentPerMinute: 2, contentPerHour: 3, secondaryStatus: 429 } })
    expect((await comment(forge)).status).toBe(201)
    expect((await comment(forge)).status).toBe(201)
    const perMinute = await comment(forge)
    expect(perMinute.status).toBe(429)
    expect(Number(perMinute.headers.get('retry-after'))).toBe(60)
    // Reads and edits are not content creation.
    expect((await call(forge, 'GET', `${REPO}/issues/1`, 'tok-alice')).status).toBe(200)
    t += 61_000
    expect((await comment(forge)).status).toBe(201)
    t += 61_000
    const perHour = await comment(forge)
    expect(perHour.status).toBe(429)
    expect(Number(perHour.headers.get('retry-after'))).toBe(3600 - 122)
    t += HOUR
    expect((await comment(forge)).status).toBe(201)
  })

  it('rate-limit bursts on demand, primary and secondary', async () => {
    const forge = await start()
    forge.burstRateLimit('secondary', 30_000)
    const s = await call(forge, 'GET', REPO, 'tok-alice')
    expect(s.status).toBe(403)
    expect(s.headers.get('retry-after')).toBe('30')
    t += 30_000
    expect((await call(forge, 'GET', REPO, 'tok-alice')).status).toBe(200)
    forge.burstRateLimit('primary', 120_000)
    const p = await call(forge, 'GET', REPO, 'tok-alice')
    expect(p.status).toBe(403)
    expect(p.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(Number(p.headers.get('x-ratelimit-reset'))).toBe(Math.ceil((t + 120_000) / 1000))
  })

  it('a share of answers are 5xx, replayable from the seed', async () => {
    const statuses = async (seed: number): Promise<number[]> => {
      const forge = await start({ random: { seed }, faults: { errorRate: 0.5 } })
      const out: number[] = []
      for (let i = 0; i < 30; i++) out.push((await call(forge, 'GET', REPO, 'tok-alice')).status)
      return out
    }
    const a = await statuses(7)
    const b = await statuses(7)
    expect(a).toEqual(b)
    expect(a.filter((s) => s >= 500).length).toBeGreaterThan(5)
    expect(a.filter((s) => s === 200).length).toBeGreaterThan(5)
    expect(a.every((s) => s === 200 || [500, 502, 503].includes(s))).toBe(true)
    expect(await statuses(8)).not.toEqual(a)
  })

  it('a share of answers are rate limits; a 5xx before a write does not apply it', async () => {
    const forge = await start({ random: { seed: 1 }, faults: { rateLimitRate: 1 } })
    const r = await comment(forge)
    expect(r.status).toBe(403)
    expect(r.json.message).toMatch(/secondary rate limit/)
    expect(r.headers.get('retry-after')).toBe('60')
    forge.setFaults({ rateLimitRate: 0, errorRate: 1 })
    expect((await comment(forge)).status).toBeGreaterThanOrEqual(500)
    forge.setFaults({ errorRate: 0 })
    expect(forge.state.repo('org', 'tasks').issues.get(1)?.comments).toBe(0)
  })

  it('a write can be applied and still answered 502', async () => {
    const forge = await start({ random: { seed: 3 }, faults: { errorAfterApplyRate: 1 } })
    const r = await comment(forge)
    expect(r.status).toBe(502)
    expect((await call(forge, 'GET', `${REPO}/issues/1/comments`, 'tok-alice')).json).toHaveLength(1)
  })

  it('adds latency', async () => {
    const forge = await start({ faults: { latencyMs: [150, 200] } })
    const t0 = performance.now()
    await call(forge, 'GET', REPO, 'tok-alice')
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145)
  })

  it('lists lag behind writes while single reads do not', async () => {
    const forge = await start({ faults: { listLagMs: 5_000 } })
    const created = await call(forge, 'POST', `${REPO}/issues`, 'tok-alice', { title: 'fresh' })
    const n = created.json.number as number
    expect((await call(forge, 'GET', `${REPO}/issues/${n}`, 'tok-alice')).status).toBe(200)
    const numbers = async (): Promise<number[]> => ((await call(forge, 'GET', `${REPO}/issues`, 'tok-alice')).json as unknown as Array<{ number: number }>).map((i) => i.number)
    expect(await numbers()).not.toContain(n)
    t += 2_000
    await call(forge, 'PATCH', `${REPO}/issues/${n}`, 'tok-alice', { title: 'renamed' })
    t += 3_000
    const list = (await call(forge, 'GET', `${REPO}/issues`, 'tok-alice')).json as unknown as Array<{ number: number, title: string }>
    expect(list.find((i) => i.number === n)?.title).toBe('fresh')
    t += 2_000
    const later = (await call(forge, 'GET', `${REPO}/issues`, 'tok-alice')).json as unknown as Array<{ number: number, title: string }>
    expect(later.find((i) => i.number === n)?.title).toBe('renamed')
  })
})

describe('webhooks', () => {
  let receiver: Server
  let received: Array<{ headers: Record<string, string | string[] | undefined>, body: string }> = []
  let forge: Forge | undefined

  const listen = async (): Promise<string> => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    const a = receiver.address()
    return `http://127.0.0.1:${typeof a === 'object' && a != null ? a.port : 0}/hook`
  }
  afterEach(async () => {
    await forge?.close()
    forge = undefined
    await new Promise((resolve) => receiver.close(resolve))
    received = []
  })

  it('delivers signed events', async () => {
    const url = await listen()
    forge = await createForge(baseInit())
    forge.addWebhook('org', 'tasks', { url, secret: 's3cret', events: ['issues', 'issue_comment'] })
    await call(forge, 'POST', `${REPO}/issues`, 'tok-alice', { title: 'hooked' })
    await call(forge, 'POST', `${REPO}/issues/1/comments`, 'tok-alice', { body: 'c' })
    await call(forge, 'POST', `${REPO}/labels`, 'tok-alice', { name: 'not-subscribed' })
    await forge.settled()
    expect(received.map((r) => r.headers['x-github-event'])).toEqual(['issues', 'issue_comment'])
    for (const r of received) {
      expect(r.headers['x-hub-signature-256']).toBe(sign('s3cret', r.body))
      expect(r.headers['x-github-delivery']).toMatch(/^[0-9a-f-]{36}$/)
    }
    const first = JSON.parse(received[0]?.body ?? '{}') as { action: string, issue: { title: string }, sender: { login: string }, repository: { full_name: string } }
    expect(first).toMatchObject({ action: 'opened', issue: { title: 'hooked' }, sender: { login: 'alice' }, repository: { full_name: 'org/tasks' } })
  })

  it('drops and duplicates deliveries on demand', async () => {
    const url = await listen()
    forge = await createForge(baseInit({ random: { seed: 5 }, faults: { webhookDropRate: 1 } }))
    forge.addWebhook('org', 'tasks', { url, secret: 'x' })
    await call(forge, 'POST', `${REPO}/issues`, 'tok-alice', { title: 'dropped' })
    await forge.settled()
    expect(received).toHaveLength(0)
    expect(forge.deliveries[0]?.dropped).toBe(true)
    forge.setFaults({ webhookDropRate: 0, webhookDuplicateRate: 1 })
    await call(forge, 'POST', `${REPO}/issues`, 'tok-alice', { title: 'twice' })
    await waitFor(() => received.length === 2, 10_000, 'two deliveries')
    expect(received[0]?.headers['x-github-delivery']).toBe(received[1]?.headers['x-github-delivery'])
  })
})
