import { afterEach, describe, expect, it } from 'vitest'
import { parseClaimMarker } from './claim.js'
import { createClaimer, type ClaimHandle, type ClaimOutcome } from './claimer.js'
import type { GitHubClient } from './client.js'
import { issues, startForge, until, type Fixture } from './fixtures.test.util.js'

function won (r: ClaimOutcome): ClaimHandle {
  if (r.outcome !== 'won') throw new Error(`expected to win, lost: ${JSON.stringify(r)}`)
  return r.claim
}

/** A client whose requests pass through `before` first (to hold or watch them). */
function intercepted (client: GitHubClient, before: (route: string) => Promise<void> | void): GitHubClient {
  const request = (async (route: string, params: unknown, options?: unknown) => {
    await before(route)
    return await (client.request as (r: string, p: unknown, o?: unknown) => Promise<unknown>)(route, params, options)
  }) as GitHubClient['request']
  return { ...client, request, login: client.login, requestCounts: client.requestCounts, scopeCounts: client.scopeCounts, redact: client.redact, gitEnv: client.gitEnv, log: client.log }
}

/** Holds every PATCH of a claim comment until `open()` is called. */
function gatedEdits (): { before: (route: string) => Promise<void>, edits: string[], open: () => void } {
  const edits: string[] = []
  let open: () => void = () => {}
  const gate = new Promise<void>((resolve) => { open = resolve })
  return {
    edits,
    open: () => { open() },
    before: async (route) => {
      if (!route.startsWith('PATCH /repos/{owner}/{repo}/issues/comments/')) return
      edits.push(route)
      if (edits.length === 1) await gate
    }
  }
}

describe('a claim handle', () => {
  let fx: Fixture | undefined
  afterEach(async () => { await fx?.close(); fx = undefined })

  const start = async (): Promise<Fixture> => await startForge({
    users: ['alice'],
    repos: [{ owner: 'alice', name: 'tasks', files: { 'README.md': '# tasks\n' }, labels: ['bzzz'], issues: issues(2, 'alice') }]
  })
  const claimState = async (client: GitHubClient, issue: number): Promise<Array<string | undefined>> => {
    const cs = await client.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner: 'alice', repo: 'tasks', issue_number: issue })
    return cs.data.map((c) => parseClaimMarker(c.body)?.state)
  }

  it('a status write refused once (read access) is not tried again by claimers that share statusRefused', async () => {
    fx = await startForge({
      users: ['alice', 'bob'],
      repos: [{ owner: 'alice', name: 'tasks', files: { 'README.md': '# tasks\n' }, labels: ['bzzz'], issues: issues(3, 'alice') }]
    })
    const labelWrites: string[] = []
    fx.forge.events.on('request', (r) => { if (r.method === 'POST' && r.path.endsWith('/labels')) labelWrites.push(`${r.path} ${r.status}`) })
    const client = await fx.client('bob')
    const statusRefused = new Set<string>()
    for (const n of [1, 2, 3]) {
      const claim = won(await createClaimer({ client, node: 'n1', settleMs: 50, leaseMs: 60_000, statusRefused }).claim('alice/tasks', n))
      await claim.complete('done', `https://example.test/pr/${n}`)
    }
    expect(labelWrites).toEqual(['/repos/alice/tasks/issues/1/labels 403'])
    expect([...statusRefused]).toEqual(['alice/tasks'])
  }, 30_000)

  it('onPosted: once, when the claim comment exists and before the read that decides; not for a claim refused before posting', async () => {
    fx = await start()
    const client = await fx.client('alice')
    const log: string[] = []
    fx.forge.events.on('request', (r) => { if (r.path === '/repos/alice/tasks/issues/1/comments') log.push(`${r.method} ${r.status}`) })
    let atPosted: string[] | undefined
    let calls = 0
    const claimer = createClaimer({ client, node: 'n1', settleMs: 300, leaseMs: 60_000, setStatus: false })
    won(await claimer.claim('alice/tasks', 1, { onPosted: () => { calls++; atPosted = [...log] } }))
    expect(calls).toBe(1)
    // The POST had been answered; the list read that decides came after.
    expect(atPosted).toEqual(['POST 201'])
    expect(log.slice(0, 2)).toEqual(['POST 201', 'GET 200'])
    // A second claimer that loses remembers the winner: its next claim ends before any POST.
    const other = createClaimer({ client: await fx.client('alice'), node: 'n2', settleMs: 50, leaseMs: 60_000, setStatus: false, trustAnyone: true })
    let posted = 0
    expect((await other.claim('alice/tasks', 1, { onPosted: () => { posted++ } })).outcome).toBe('lost')
    expect(posted).toBe(1)
    expect((await other.claim('alice/tasks', 1, { onPosted: () => { posted++ } })).outcome).toBe('lost')
    expect(posted).toBe(1)
  }, 30_000)

  it('says when a renewal landed, and the lease then ends later', async () => {
    fx = await start()
    const claim = won(await createClaimer({ client: await fx.client('alice'), node: 'n1', settleMs: 50, leaseMs: 60_000, renewEveryMs: 300, setStatus: false }).claim('alice/tasks', 1))
    const leases: number[] = [claim.leaseExpiresAt()]
    // Server timestamps have whole seconds: renewals a second or more apart extend the lease.
    claim.startRenewing({ onRenewed: () => { leases.push(claim.leaseExpiresAt()) } })
    await until(() => leases.length >= 2 && leases.at(-1)! > leases[0]!, 15_000)
    claim.stopRenewing()
    expect(leases.at(-1)!).toBeGreaterThan(leases[0]!)
  }, 30_000)

  it('stopRenewing() during a renewal in flight stops the renewals', async () => {
    fx = await start()
    const alice = await fx.client('alice')
    const g = gatedEdits()
    const claim = won(await createClaimer({ client: intercepted(alice, g.before), node: 'n1', settleMs: 50, leaseMs: 60_000, renewEveryMs: 100, setStatus: false }).claim('alice/tasks', 1))
    claim.startRenewing()
    await until(() => g.edits.length === 1)
    claim.stopRenewing()
    g.open()
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(g.edits).toHaveLength(1)
  }, 30_000)

  it('a renewal in flight when complete() is called cannot turn the claim back from done to claimed', async () => {
    fx = await start()
    const alice = await fx.client('alice')
    const g = gatedEdits()
    const claim = won(await createClaimer({ client: intercepted(alice, g.before), node: 'n1', settleMs: 50, leaseMs: 60_000, setStatus: false }).claim('alice/tasks', 1))
    const renewal = claim.renew()
    await until(() => g.edits.length === 1)
    const completion = claim.complete('done', 'https://example.test/pr/1')
    // Let complete() send its edit if it would, before the renewal's edit goes through.
    await new Promise((resolve) => setTimeout(resolve, 300))
    g.open()
    await renewal
    await completion
    expect(await claimState(alice, 1)).toEqual(['done'])
    expect(claim.signal.aborted).toBe(true)
  }, 30_000)

  it('a claim aborted after it won (while setting status) is withdrawn, not left holding the issue', async () => {
    fx = await start()
    const alice = await fx.client('alice')
    const ac = new AbortController()
    const client = intercepted(alice, (route) => {
      if (route === 'POST /repos/{owner}/{repo}/issues/{issue_number}/assignees') ac.abort()
    })
    await expect(createClaimer({ client, node: 'n1', settleMs: 50, leaseMs: 60_000 }).claim('alice/tasks', 2, { signal: ac.signal })).rejects.toThrow()
    expect(await claimState(alice, 2)).toEqual([])
    // And the issue can be claimed at once by someone else.
    won(await createClaimer({ client: alice, node: 'n2', settleMs: 50, leaseMs: 60_000, setStatus: false }).claim('alice/tasks', 2))
  }, 30_000)

  it('one caller aborting client.login() does not fail another caller sharing the same request', async () => {
    fx = await startForge({ users: ['alice'], faults: { latencyMs: [300, 300] }, repos: [{ owner: 'alice', name: 'tasks' }] })
    const alice = await fx.client('alice')
    const quitter = new AbortController()
    const first = alice.login({ signal: quitter.signal })
    const second = alice.login()
    setTimeout(() => { quitter.abort() }, 50)
    await expect(first).rejects.toMatchObject({ name: 'AbortError' })
    await expect(second).resolves.toBe('alice')
  }, 30_000)

  it('a watching holder notices a break by itself (its signal aborts, no fence needed); a fence passes only after its chain of reads reaches back far enough', async () => {
    fx = await startForge({
      users: ['alice', 'bob'],
      repos: [{ owner: 'alice', name: 'tasks', files: { 'README.md': '# tasks\n' }, permissions: { bob: 'write' }, labels: ['bzzz'], issues: issues(2, 'alice') }]
    })
    // margin 1000, settle 100: gap 1000 (at least a second), span 1000 + 1000 + 400 = 2400 ms; a watch read every 333 ms.
    const opts = { settleMs: 100, marginMs: 1000, setStatus: false, trustedClaimants: ['alice', 'bob'] }
    const alice = await fx.client('alice')
    const a = won(await createClaimer({ client: alice, node: 'A', ...opts }).claim('alice/tasks', 1))
    const wonAt = performance.now()
    a.startRenewing()
    await a.fence()
    expect(performance.now() - wonAt).toBeGreaterThanOrEqual(2400 - 400) // the decision read came ≤ one read before
    const notModified = alice.scopeCounts(a.scope).notModified
    expect(notModified).toBeGreaterThan(3) // the watch's and the fence's reads: free 304s
    const b = won(await createClaimer({ client: await fx.client('bob'), node: 'B', ...opts }).claim('alice/tasks', 1, { breaks: a.claimId }))
    await until(() => a.signal.aborted, 5000)
    expect(a.signal.reason).toMatchObject({ name: 'ClaimLostError', reason: 'broken' })
    expect(a.state).toBe('lost')
    await b.release()
  }, 30_000)

  it('a renewal due while a passed fence\'s step runs waits for it: the next step\'s fence passes at once', async () => {
    fx = await start()
    const alice = await fx.client('alice')
    const edits: number[] = []
    const client = intercepted(alice, (route) => { if (route.startsWith('PATCH /repos/{owner}/{repo}/issues/comments/')) edits.push(performance.now()) })
    // margin 2000, settle 100: span 2000 + 1000 + 400 = 3400 ms; a renewal due every 500 ms.
    const claim = won(await createClaimer({ client, node: 'n1', settleMs: 100, marginMs: 2000, leaseMs: 60_000, renewEveryMs: 500, setStatus: false }).claim('alice/tasks', 1))
    claim.startRenewing()
    await claim.fence() // renewals wait for it: the chain builds from the claim
    expect(edits).toEqual([])
    // A push (600 ms, within the step's 2 s), then the pull request's fence: no renewal came in
    // between to restart the chain, so the reads still reach back far enough.
    await new Promise((resolve) => setTimeout(resolve, 600))
    const t0 = performance.now()
    await claim.fence()
    expect(performance.now() - t0).toBeLessThan(2000)
    expect(edits).toEqual([])
    // Past the step the renewal comes.
    await until(() => edits.length > 0, 10_000)
    claim.stopRenewing()
  }, 30_000)

  it('a fence passes when every read takes most of half the chain\'s gap: its pause counts from the read\'s send', async () => {
    fx = await start()
    const alice = await fx.client('alice')
    // marginMs 4 s: gap G = 2 s, fence pause G / 6 = 333 ms. Every comment read takes 850 ms, so
    // two reads with a full pause between them (850 + 333 + 850 ms) leave more than G from one
    // read's send to the next one's answer, and no chain ever forms; with the pause counted from
    // the send, 850 + 850 ms does.
    const slowReads = intercepted(alice, async (route) => {
      if (route === 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments') await new Promise((resolve) => setTimeout(resolve, 850))
    })
    const claim = won(await createClaimer({ client: slowReads, node: 'n1', settleMs: 50, marginMs: 4000, leaseMs: 120_000, setStatus: false }).claim('alice/tasks', 1))
    // Watching too, as a working holder does.
    claim.startRenewing()
    const began = Date.now()
    const pass = await claim.fence()
    claim.stopRenewing()
    expect(pass.signal.aborted).toBe(false)
    // Chain span W = 4 + 2 + 4 × 0.05 s: it passed on the first chain, not after giving up on some.
    expect(Date.now() - began).toBeLessThan(12_000)
  }, 30_000)
})
