import { afterEach, describe, expect, it } from 'vitest'
import { issues, startForge, type Fixture } from './fixtures.test.util.js'

const COMMENT = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments' as const
const ISSUE = 'GET /repos/{owner}/{repo}/issues/{issue_number}' as const
const ref = { owner: 'alice', repo: 'tasks', issue_number: 1 }

describe("the client's limiters (Octokit's throttling and retry plugins, on a patched Bottleneck)", () => {
  let fx: Fixture | undefined
  afterEach(async () => { await fx?.close(); fx = undefined })
  const forge = async (latencyMs = 0): Promise<Fixture> => await startForge({
    users: ['alice'],
    faults: { latencyMs },
    repos: [{ owner: 'alice', name: 'tasks', files: { 'README.md': '# tasks\n' }, issues: issues(1, 'alice') }]
  })

  it('still sends writes one at a time, writeMinTimeMs apart', async () => {
    fx = await forge()
    const client = await fx.client('alice', { throttle: { writeMinTimeMs: 200, notificationMinTimeMs: 0, maxConcurrent: 100 } })
    const t0 = Date.now()
    await Promise.all([1, 2, 3, 4].map(async (i) => await client.request(COMMENT, { ...ref, body: `comment ${i}` })))
    // Four writes, each launched 200 ms after the one before: 600 ms at least.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(595)
    expect((await client.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', ref)).data).toHaveLength(4)
  })

  it('still holds at most maxConcurrent requests in flight', async () => {
    fx = await forge(60)
    const client = await fx.client('alice', { throttle: { maxConcurrent: 2 } })
    const t0 = Date.now()
    await Promise.all(Array.from({ length: 6 }, async () => await client.request(ISSUE, ref)))
    // Six answers that each take 60 ms, two at a time: three rounds.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(170)
  })

  it('takes no timer turn per limiter: a request due now goes out after microtasks', async () => {
    fx = await forge()
    const client = await fx.client('alice')
    await client.request(ISSUE, ref) // the connection and the login are made
    const real = globalThis.setTimeout
    let timers = 0
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => { timers++; return real(...args) }) as typeof setTimeout
    try {
      for (let i = 0; i < 10; i++) {
        await client.request(ISSUE, ref)
        await client.request(COMMENT, { ...ref, body: `comment ${i}` })
      }
    } finally {
      globalThis.setTimeout = real
    }
    // Unpatched, Bottleneck took a 1 ms timer for each step of each job on each limiter: 13 for a
    // GET and 21 for a POST (17 and 28 ms a request on an idle machine, much more on a busy one).
    expect(timers / 20).toBeLessThanOrEqual(2)
  })

  it('a secondary rate limit is still waited out and retried', async () => {
    fx = await startForge({
      users: ['alice'],
      faults: { latencyMs: 100 },
      rateLimit: { concurrent: 1, secondaryRetryAfterS: 1 },
      repos: [{ owner: 'alice', name: 'tasks', files: { 'README.md': '# tasks\n' }, issues: issues(1, 'alice') }]
    })
    const client = await fx.client('alice', { throttle: { retryAfterBaseMs: 100, maxRetries: 4 } })
    await Promise.all([1, 2, 3].map(async () => await client.request(ISSUE, ref)))
    const counts = client.requestCounts().total
    expect(counts.counted).toBe(3)
    expect(counts.rateLimited).toBeGreaterThanOrEqual(2)
  })
})
