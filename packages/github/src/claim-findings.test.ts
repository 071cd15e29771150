// The eight findings of issue 10, each reproduced against the forge; each test fails on the
// first version of the claim handle.
import { rm } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { formatClaimBody, parseClaimMarker } from './claim.js'
import { createClaimer, type ClaimHandle, type ClaimOutcome } from './claimer.js'
import type { GitHubClient } from './client.js'
import { ClaimLostError, GitHubRequestError, ListingError } from './errors.js'
import { issues, pushBranch, startForge, type Fixture } from './fixtures.test.util.js'
import { createPublisher, type ForkInfo } from './publish.js'

const REPO = 'alice/tasks'
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

function won (r: ClaimOutcome): ClaimHandle {
  if (r.outcome !== 'won') throw new Error(`expected to win, lost: ${JSON.stringify(r)}`)
  return r.claim
}

/** A client whose requests pass through `around` (to hold, fail or watch them). */
function around (client: GitHubClient, wrap: (route: string, params: Record<string, unknown>, send: () => Promise<unknown>, signal: AbortSignal | undefined) => Promise<unknown>): GitHubClient {
  const request = (async (route: string, params: Record<string, unknown>, options?: { signal?: AbortSignal }) =>
    await wrap(route, params, async () => await (client.request as (r: string, p: unknown, o?: unknown) => Promise<unknown>)(route, params, options), options?.signal)) as GitHubClient['request']
  return { ...client, request, login: client.login, requestCounts: client.requestCounts, scopeCounts: client.scopeCounts, redact: client.redact, gitEnv: client.gitEnv, log: client.log }
}

const fail502 = (route: string): GitHubRequestError => new GitHubRequestError({ status: 502, method: route.split(' ')[0]!, route })

describe('the claim handle, second version: the findings of issue 10', () => {
  let fx: Fixture | undefined
  afterEach(async () => { await fx?.close(); fx = undefined })

  const start = async (n = 3, faults = {}): Promise<Fixture> => await startForge({
    users: ['alice', 'bob', 'carol', 'dave', 'stranger'],
    faults,
    repos: [{ owner: 'alice', name: 'tasks', files: { 'README.md': '# tasks\n' }, permissions: { bob: 'write', carol: 'write', dave: 'write' }, labels: ['bzzz'], issues: issues(n, 'alice') }]
  })
  const MESH = ['bob', 'carol', 'dave']
  const claimsOn = async (client: GitHubClient, issue: number): Promise<Array<{ id: number | bigint, state: string | undefined }>> => {
    const cs = await client.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner: 'alice', repo: 'tasks', issue_number: issue, per_page: 100 })
    return cs.data.filter((c) => parseClaimMarker(c.body) !== undefined).map((c) => ({ id: c.id, state: parseClaimMarker(c.body)?.state }))
  }

  it('1. a renewal applied after the lease ran out (and answered 502) revives nothing: the old holder is fenced off, the new one holds', async () => {
    fx = await start()
    const opts = { leaseMs: 4000, settleMs: 100, marginMs: 500, setStatus: false, trustedClaimants: MESH }
    let held = false
    const bobClient = around(await fx.client('bob'), async (route, _p, send) => {
      if (!route.startsWith('PATCH') || held) return await send()
      held = true
      await sleep(6500) // held by retries or the throttle queue
      await send()
      throw fail502(route)
    })
    const a = won(await createClaimer({ client: bobClient, node: 'A', ...opts }).claim(REPO, 1))
    const renewal = a.renew().catch((err: unknown) => err)
    await sleep(7200)
    expect(await renewal).toBeInstanceOf(GitHubRequestError)
    const b = won(await createClaimer({ client: await fx.client('carol'), node: 'B', ...opts }).claim(REPO, 1))
    await expect(a.fence()).rejects.toBeInstanceOf(ClaimLostError)
    await b.fence()
    const third = await createClaimer({ client: await fx.client('dave'), node: 'C', ...opts }).claim(REPO, 1)
    expect(third).toMatchObject({ outcome: 'lost', reason: 'held', winner: { node: 'B' } })
  }, 30_000)

  it('2. publishing and marking done are one step: release() keeps a terminal claim, and a crash after the pull request leads the next holder to adopt it', async () => {
    fx = await start()
    const opts = { leaseMs: 8000, settleMs: 100, marginMs: 2000, setStatus: false, trustedClaimants: MESH }
    const bob = await fx.client('bob')
    const c = won(await createClaimer({ client: bob, node: 'A', ...opts }).claim(REPO, 1))
    await c.complete('done', 'https://example.test/pr/1')
    await c.release()
    expect(await claimsOn(bob, 1)).toEqual([{ id: c.claimId, state: 'done' }])

    // Issue 2: the holder opens its pull request and dies before complete().
    const bobPub = createPublisher({ client: bob, settleMs: 100, forkPollMs: 100 })
    const fork = await bobPub.ensureFork(REPO)
    await rm(await pushBranch(fork.cloneUrl, 'bzzz/2', bob.gitEnv()), { recursive: true, force: true })
    const first = won(await createClaimer({ client: bob, node: 'A', ...opts }).claim(REPO, 2))
    const pr = await bobPub.openPullRequest(first, { fork, branch: 'bzzz/2', title: 't', summary: 's' })
    expect(pr.created).toBe(true)
    first.stopRenewing()
    await sleep(8000 + 2100 + 200) // lease + grace
    const carol = await fx.client('carol')
    const second = won(await createClaimer({ client: carol, node: 'B', ...opts }).claim(REPO, 2))
    const again = await createPublisher({ client: carol, settleMs: 100 }).openPullRequest(second, { fork: { ...fork }, branch: 'bzzz/2-b', title: 't', summary: 's' })
    expect(again).toMatchObject({ created: false, url: pr.url, adopted: { kind: 'pull_request' } })
    await second.complete('done', again.url)
    const pulls = await carol.request('GET /repos/{owner}/{repo}/pulls', { owner: 'alice', repo: 'tasks', state: 'all' })
    expect(pulls.data).toHaveLength(1)
  }, 30_000)

  it('3. the fence notices a lower claim that the settle delay missed (list lag longer than settleMs)', async () => {
    fx = await start(3, { listLagMs: 600 })
    const opts = { leaseMs: 20_000, settleMs: 100, marginMs: 500, setStatus: false, trustedClaimants: MESH }
    const [ra, rb] = await Promise.all([
      createClaimer({ client: await fx.client('bob'), node: 'A', ...opts }).claim(REPO, 1),
      sleep(50).then(async () => await createClaimer({ client: await fx!.client('carol'), node: 'B', ...opts }).claim(REPO, 1))
    ])
    // Both believed they won: each read lagged behind the other's claim.
    const a = won(ra)
    const b = won(rb)
    const [low, high] = a.claimId < b.claimId ? [a, b] : [b, a]
    await low.fence()
    await expect(high.fence()).rejects.toMatchObject({ name: 'ClaimLostError', reason: 'held' })
  }, 30_000)

  it('3b. a holder whose own claim is not listed yet (lag longer than its wait) asks for it, and holds on', async () => {
    fx = await start(3, { listLagMs: 2500 })
    const c = won(await createClaimer({ client: await fx.client('bob'), node: 'A', leaseMs: 20_000, settleMs: 100, marginMs: 500, setStatus: false, trustedClaimants: MESH }).claim(REPO, 1))
    await c.fence()
    expect(c.state).toBe('holding')
  }, 30_000)

  it('4. a stranger\'s markers: `done` counts for nothing, `claimed` delays the issue by one lease at most, whatever its edits', async () => {
    fx = await start()
    const stranger = await fx.client('stranger')
    const post = async (state: 'done' | 'claimed'): Promise<number> => Number((await stranger.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      owner: 'alice', repo: 'tasks', issue_number: 1,
      body: formatClaimBody({ v: 1, node: 'evil', lease_ms: 86_400_000, lease_expires: '2099-01-01T00:00:00Z', attempt: 1, state, nonce: `evil${state}` })
    })).data.id)
    await post('done')
    const held = await post('claimed')
    // No trustedClaimants configured: only this peer's own login counts fully.
    const claimer = createClaimer({ client: await fx.client('bob'), node: 'A', settleMs: 100, leaseMs: 3000, marginMs: 500, setStatus: false })
    expect(await claimer.claim(REPO, 1)).toMatchObject({ outcome: 'lost', reason: 'held', winner: { id: held, author: 'stranger' } })
    // The stranger keeps editing its marker: that does not extend it.
    const renew = setInterval(() => {
      stranger.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {
        owner: 'alice', repo: 'tasks', comment_id: held,
        body: formatClaimBody({ v: 1, node: 'evil', lease_ms: 86_400_000, lease_expires: '2099-01-01T00:00:00Z', attempt: 1, state: 'claimed', nonce: 'evilclaimed' })
      }).catch(() => {})
    }, 500)
    try {
      // One lease (3 s) plus the grace (settle + 2 s) after the marker's creation, judged on the
      // forge's clock as its Date header tells it: whole seconds, so up to 1 s behind.
      await sleep(3000 + 2100 + 1000 + 300)
      const c = won(await claimer.claim(REPO, 1))
      expect(c.trusted).toEqual(['bob'])
    } finally {
      clearInterval(renew)
    }
  }, 30_000)

  it('5a. listing fails closed at its cap: nothing is decided and no claim is left', async () => {
    fx = await start()
    const repo = fx.forge.state.repo('alice', 'tasks')
    for (let i = 0; i < 230; i++) fx.forge.state.createComment(repo, 'alice', 1, `comment ${i}`)
    const bob = await fx.client('bob')
    await expect(createClaimer({ client: bob, node: 'A', settleMs: 100, setStatus: false, maxPages: 2 }).claim(REPO, 1)).rejects.toBeInstanceOf(ListingError)
    const all = await bob.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner: 'alice', repo: 'tasks', issue_number: 1, per_page: 100, page: 3 })
    expect(all.data.filter((c) => parseClaimMarker(c.body) !== undefined)).toEqual([])
  }, 30_000)

  it('5b. a comment deleted between two page reads does not hide the claim that slid onto the first page', async () => {
    fx = await start()
    const repo = fx.forge.state.repo('alice', 'tasks')
    const first = fx.forge.state.createComment(repo, 'alice', 1, 'filler 0')
    for (let i = 1; i < 100; i++) fx.forge.state.createComment(repo, 'alice', 1, `filler ${i}`)
    // A's claim is the 101st comment: the first item of page 2.
    const a = won(await createClaimer({ client: await fx.client('bob'), node: 'A', settleMs: 100, leaseMs: 60_000, setStatus: false, trustedClaimants: MESH }).claim(REPO, 1))
    let deleted = false
    const carol = around(await fx.client('carol'), async (route, params, send) => {
      const res = await send()
      if (route.startsWith('GET') && route.endsWith('/comments') && params.page === 1 && !deleted) {
        deleted = true
        fx!.forge.state.deleteComment(repo, 'alice', first.id)
      }
      return res
    })
    const r = await createClaimer({ client: carol, node: 'B', settleMs: 100, leaseMs: 60_000, setStatus: false, trustedClaimants: MESH }).claim(REPO, 1)
    expect(deleted).toBe(true)
    expect(r).toMatchObject({ outcome: 'lost', reason: 'held', winner: { id: a.claimId } })
  }, 30_000)

  it('6. a publishing step does not outlive its fence: past the margin its requests are not sent', async () => {
    fx = await start()
    let sent = 0
    const bob = around(await fx.client('bob'), async (route, _p, send, signal) => {
      if (route === 'POST /repos/{owner}/{repo}/pulls') {
        await sleep(1500) // a rate-limit wait, retries: then the request leaves only if its signal allows
        signal?.throwIfAborted()
        sent++
        return await send()
      }
      return await send()
    })
    const c = won(await createClaimer({ client: bob, node: 'A', settleMs: 100, leaseMs: 10_000, marginMs: 1000, setStatus: false }).claim(REPO, 1))
    const fork: ForkInfo = { owner: 'alice', repo: 'tasks', fullName: REPO, defaultBranch: 'main', cloneUrl: '' }
    await expect(createPublisher({ client: bob, settleMs: 100 }).openPullRequest(c, { fork, branch: 'main', title: 't', summary: 's' }))
      .rejects.toMatchObject({ name: 'ClaimLostError', reason: 'step-overran' })
    await sleep(1700)
    expect(sent).toBe(0)
  }, 30_000)

  it('7. a claim POST that was aborted but applied later is withdrawn, not left as an orphan', async () => {
    fx = await start()
    const ac = new AbortController()
    const bob = around(await fx.client('bob'), async (route, _p, send) => {
      if (route.startsWith('POST') && route.endsWith('/comments')) {
        ac.abort()
        await sleep(300) // on the wire; GitHub applies it after the caller gave up
        return await send()
      }
      return await send()
    })
    const claimer = createClaimer({ client: bob, node: 'A', settleMs: 100, setStatus: false })
    await expect(claimer.claim(REPO, 1, { signal: ac.signal })).rejects.toThrow()
    await sleep(400)
    await claimer.idle()
    expect(await claimsOn(await fx.client('alice'), 1)).toEqual([])
  }, 30_000)

  it('8. a loser does not post again before the winner\'s lease can end; a dead holder is broken in seconds, not after its lease', async () => {
    fx = await start()
    const alice = await fx.client('alice')
    const claimCount = async (): Promise<number> => (await claimsOn(alice, 1)).length
    const opts = { settleMs: 100, setStatus: false, trustedClaimants: MESH } // production lease: 20 minutes
    const a = won(await createClaimer({ client: await fx.client('bob'), node: 'A', ...opts }).claim(REPO, 1))
    const carol = await fx.client('carol')
    const bClaimer = createClaimer({ client: carol, node: 'B', ...opts })
    expect(await bClaimer.claim(REPO, 1)).toMatchObject({ outcome: 'lost', reason: 'held' })
    const claimsBefore = await claimCount()
    const before = carol.scopeCounts(`task:${REPO}#1`).counted
    const again = await bClaimer.claim(REPO, 1)
    expect(again).toMatchObject({ outcome: 'lost', reason: 'held' })
    expect((again as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(19 * 60_000)
    // No claim posted: one read of the comments (B's withdrawal changed them), then free 304s.
    expect(carol.scopeCounts(`task:${REPO}#1`).counted).toBeLessThanOrEqual(before + 1)
    const before2 = carol.scopeCounts(`task:${REPO}#1`).counted
    expect(await bClaimer.claim(REPO, 1)).toMatchObject({ outcome: 'lost', reason: 'held' })
    expect(carol.scopeCounts(`task:${REPO}#1`).counted).toBe(before2)
    expect(await claimCount()).toBe(claimsBefore)
    // The mesh holds A dead: B breaks A's claim and holds the issue at once.
    const started = Date.now()
    const b = won(await bClaimer.claim(REPO, 1, { attempt: 2, breaks: a.claimId }))
    expect(Date.now() - started).toBeLessThan(5000)
    expect(b.breaks).toBe(a.claimId)
    expect(b.toMessage()).toMatchObject({ breaks: a.claimId, attempt: 2 })
    // A, alive after all (a partition), stops at its next fence.
    await expect(a.fence()).rejects.toMatchObject({ name: 'ClaimLostError', reason: 'broken' })
  }, 30_000)

  it('8b. a loser asked again after the winner released its claim (a drain, a delegation) claims at once, with the same claimer', async () => {
    fx = await start()
    const opts = { settleMs: 100, setStatus: false, trustedClaimants: MESH }
    const a = won(await createClaimer({ client: await fx.client('bob'), node: 'A', ...opts }).claim(REPO, 1))
    const bClaimer = createClaimer({ client: await fx.client('carol'), node: 'B', ...opts })
    expect(await bClaimer.claim(REPO, 1)).toMatchObject({ outcome: 'lost', reason: 'held' })
    await a.release()
    await new Promise((resolve) => setTimeout(resolve, 300)) // the forge's list lag
    const b = won(await bClaimer.claim(REPO, 1))
    expect(b.claimId).toBeGreaterThan(a.claimId)
  }, 30_000)
})
