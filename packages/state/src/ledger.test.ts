import { SEED_SAMPLES, decode } from '@bzzz/protocol'
import { describe, expect, it } from 'vitest'
import { announce, caps, claim, helpRequest, helpResponse, ping, REPO, result, T0, ts } from './builders.test.util.js'
import { createLedger } from './ledger.js'
import { DEFAULT_LIVENESS, InvalidConfigError, livenessAt } from './liveness.js'

const KEY = `${REPO}#42`

describe('liveness', () => {
  it('defaults find a dead peer within 10 seconds', () => {
    expect(DEFAULT_LIVENESS.deadAfterMs).toBeLessThanOrEqual(10_000)
    expect(DEFAULT_LIVENESS.suspectAfterMs).toBeGreaterThanOrEqual(2 * DEFAULT_LIVENESS.presenceIntervalMs)
  })

  it('a silent peer goes suspect, then dead, at the configured times', () => {
    const ledger = createLedger({ liveness: { suspectAfterMs: 3000, deadAfterMs: 7000 } })
    ledger.observe(ping('a', T0), T0)
    expect(ledger.peer('a', T0 + 2999)?.liveness).toBe('alive')
    expect(ledger.peer('a', T0 + 3000)?.liveness).toBe('suspect')
    expect(ledger.peer('a', T0 + 6999)?.liveness).toBe('suspect')
    expect(ledger.peer('a', T0 + 7000)?.liveness).toBe('dead')
    expect(ledger.peer('a', T0 + 7000)?.deadSince).toBe(T0 + 7000)
    // Heard again: alive again.
    ledger.observe(ping('a', T0 + 8000), T0 + 8000)
    expect(ledger.peer('a', T0 + 8000)?.liveness).toBe('alive')
  })

  it('any message counts as being heard from, judged by local receive time', () => {
    const ledger = createLedger()
    ledger.observe(ping('a', T0), T0)
    // A claim sent with a clock 60 s behind, received now.
    ledger.observe(claim('#1', 'a', T0 - 60_000), T0 + 4000)
    expect(ledger.peer('a', T0 + 8000)?.liveness).toBe('alive')
    expect(ledger.peer('a', T0 + 8000)?.lastHeardAt).toBe(T0 + 4000)
  })

  it('a peer that left is dead at once, until heard from again; self is always alive', () => {
    const ledger = createLedger({ selfId: 'me' })
    ledger.observe(ping('a', T0), T0)
    ledger.observe(ping('me', T0), T0)
    ledger.peerLeft('a', T0 + 100)
    expect(ledger.peer('a', T0 + 200)?.liveness).toBe('dead')
    expect(ledger.peer('me', T0 + 3_600_000)?.liveness).toBe('alive')
    ledger.observe(ping('a', T0 + 300), T0 + 300)
    expect(ledger.peer('a', T0 + 400)?.liveness).toBe('alive')
  })

  it('peers() follows each peer through liveness and news, in id order, whatever it viewed before', () => {
    const ledger = createLedger({ liveness: { suspectAfterMs: 3000, deadAfterMs: 7000 } })
    ledger.observe(ping('b', T0), T0)
    const first = ledger.peers(T0 + 10)
    expect(ledger.peers(T0 + 20)[0]).toBe(first[0]) // the same liveness: the same (frozen) view
    expect(Object.isFrozen(first[0])).toBe(true)
    ledger.observe(ping('a', T0 + 100), T0 + 100) // a new peer: in id order
    expect(ledger.peers(T0 + 200).map((p) => [p.nodeId, p.liveness])).toEqual([['a', 'alive'], ['b', 'alive']])
    expect(ledger.peers(T0 + 3050).map((p) => p.liveness)).toEqual(['alive', 'suspect'])
    expect(ledger.peers(T0 + 7050).map((p) => p.liveness)).toEqual(['suspect', 'dead'])
    ledger.observe(caps('b', T0 + 7100, { status: 'busy' }), T0 + 7100) // news: a new view
    const b = ledger.peers(T0 + 7100)[1]
    expect([b?.liveness, b?.status, b?.lastHeardAt]).toEqual(['alive', 'busy', T0 + 7100])
    ledger.peerLeft('a', T0 + 7200)
    expect(ledger.peers(T0 + 7200).map((p) => p.liveness)).toEqual(['dead', 'alive'])
  })

  it('refuses intervals that make no sense', () => {
    expect(() => createLedger({ liveness: { suspectAfterMs: 9000, deadAfterMs: 5000 } })).toThrow(InvalidConfigError)
    expect(() => createLedger({ liveness: { deadAfterMs: -1 } })).toThrow(InvalidConfigError)
    expect(livenessAt(0, 1, DEFAULT_LIVENESS)).toBe('alive')
  })

  it('uses the newer of presence and capabilities for status, slots and load', () => {
    const ledger = createLedger()
    ledger.observe(caps('a', T0, { slots_free: 2, cpu: 5 }), T0)
    ledger.observe(ping('a', T0 + 1000, { slots_free: 0, status: 'busy', load: { cpu: 90 }, active_tasks: [KEY] }), T0 + 1000)
    const p = ledger.peer('a', T0 + 1000)!
    expect(p).toMatchObject({ status: 'busy', slotsFree: 0, hasFreeSlot: false, load: 90, activeTasks: [KEY] })
    // An older ping arriving late changes nothing but the time last heard.
    ledger.observe(ping('a', T0 + 500, { slots_free: 3 }), T0 + 1500)
    expect(ledger.peer('a', T0 + 1500)?.slotsFree).toBe(0)
  })

  it('says whether a peer message changed anything: news, or at least a later time heard', () => {
    const ledger = createLedger()
    const p1 = ping('a', T0, { slots_free: 1 })
    expect(ledger.observe(p1, T0)).toBe(true)
    expect(ledger.observe(p1, T0)).toBe(false) // the same message, the same moment: nothing new
    expect(ledger.observe(ping('a', T0 - 10, { slots_free: 5 }), T0)).toBe(false) // older, heard no later
    expect(ledger.peer('a', T0)?.slotsFree).toBe(1)
    expect(ledger.observe(p1, T0 + 5)).toBe(true) // heard later
    expect(ledger.observe(caps('a', T0, { slots_free: 2 }), T0 + 5)).toBe(true) // its first capabilities
    expect(ledger.observe(caps('a', T0, { slots_free: 2 }), T0 + 5)).toBe(false)
    expect(ledger.observe(ping('a', T0 + 20, { slots_free: 0 }), T0 + 5)).toBe(true) // newer presence
    expect(ledger.peer('a', T0 + 5)?.slotsFree).toBe(0)
  })
})

describe('task ledger', () => {
  it('follows a task through announced, claimed, running and done', () => {
    const ledger = createLedger()
    ledger.observe(announce('#42', T0), T0)
    expect(ledger.task(KEY, T0)).toMatchObject({ status: 'announced', claimable: true, offeredAt: T0, nextAttempt: 1 })
    ledger.observe(claim('#42', 'a', T0 + 1000, { attempt: 1, claim_id: 7, lease_expires: ts(T0 + 60_000) }), T0 + 1000)
    expect(ledger.task(KEY, T0 + 1000)).toMatchObject({ status: 'claimed', claimable: false, holder: { node: 'a', claimId: 7, attempt: 1, leaseExpiresAt: T0 + 60_000 } })
    ledger.observe(claim('#42', 'a', T0 + 2000, { attempt: 1, claim_id: 7, state: 'running', lease_expires: ts(T0 + 90_000) }), T0 + 2000)
    expect(ledger.task(KEY, T0 + 2000)).toMatchObject({ status: 'running', holder: { leaseExpiresAt: T0 + 90_000 } })
    ledger.observe(result('#42', 'a', T0 + 3000), T0 + 3000)
    expect(ledger.task(KEY, T0 + 200_000)).toMatchObject({ status: 'done', claimable: false })
  })

  it('the lowest claim id holds; the others lost', () => {
    const ledger = createLedger()
    ledger.observe(announce('#42', T0), T0)
    ledger.observe(claim('#42', 'b', T0 + 1000, { claim_id: 12 }), T0 + 1000)
    ledger.observe(claim('#42', 'c', T0 + 1500, { claim_id: 9 }), T0 + 1500)
    const t = ledger.task(KEY, T0 + 2000)!
    expect(t.holder?.node).toBe('c')
    expect(t.lostClaims).toEqual([{ node: 'b', attempt: 1, claimId: 12 }])
  })

  it('a failure result ends the task as failed', () => {
    const ledger = createLedger()
    ledger.observe(announce('#42', T0), T0)
    ledger.observe(claim('#42', 'a', T0 + 1000), T0 + 1000)
    ledger.observe(result('#42', 'a', T0 + 2000, { result_type: 'failure', reason: 'tests fail' }), T0 + 2000)
    expect(ledger.task(KEY, T0 + 3000)).toMatchObject({ status: 'failed', claimable: false, result: { reason: 'tests fail' } })
  })

  it('a withdrawn task is not offered; a newer revision brings it back', () => {
    const ledger = createLedger()
    ledger.observe(announce('#42', T0, { revision: '2025-07-12T01:00:00Z' }), T0)
    ledger.observe(announce('#42', T0 + 1000, { revision: '2025-07-12T01:30:00Z', action: 'withdraw' }), T0 + 1000)
    expect(ledger.task(KEY, T0 + 1000)).toMatchObject({ status: 'withdrawn', claimable: false })
    ledger.observe(announce('#42', T0 + 2000, { revision: '2025-07-12T01:45:00Z', action: 'update' }), T0 + 2000)
    expect(ledger.task(KEY, T0 + 2000)).toMatchObject({ status: 'announced', claimable: true })
  })

  it('a task whose lease ran out is offered again, with the next attempt', () => {
    const ledger = createLedger({ leaseGraceMs: 1000 })
    ledger.observe(announce('#42', T0), T0)
    ledger.observe(claim('#42', 'a', T0 + 1000, { lease_expires: ts(T0 + 30_000) }), T0 + 1000)
    // The holder keeps pinging but does not renew.
    for (let t = T0; t <= T0 + 40_000; t += 2000) ledger.observe(ping('a', t), t)
    expect(ledger.task(KEY, T0 + 30_999)?.status).toBe('claimed')
    expect(ledger.task(KEY, T0 + 31_000)).toMatchObject({ status: 'expired', expiredBecause: 'lease', claimable: true, offeredAt: T0 + 31_000, nextAttempt: 2 })
    // Attempt 2 by another peer supersedes attempt 1.
    ledger.observe(claim('#42', 'b', T0 + 32_000, { attempt: 2, lease_expires: ts(T0 + 90_000) }), T0 + 32_000)
    expect(ledger.task(KEY, T0 + 33_000)).toMatchObject({ status: 'claimed', attempt: 2, holder: { node: 'b' } })
  })

  it('a task whose holder is dead is offered again', () => {
    const ledger = createLedger()
    ledger.observe(announce('#42', T0), T0)
    ledger.observe(ping('a', T0), T0)
    ledger.observe(claim('#42', 'a', T0 + 1000, { lease_expires: ts(T0 + 600_000) }), T0 + 1000)
    expect(ledger.task(KEY, T0 + 9_999)?.status).toBe('claimed')
    // Last heard at T0 + 1000 (the claim), dead 9 s later by default.
    expect(ledger.task(KEY, T0 + 10_000)).toMatchObject({ status: 'expired', expiredBecause: 'holder-dead', offeredAt: T0 + 10_000, nextAttempt: 2 })
  })

  it('a dead holder is broken: the plan names its claim, and once the breaker claims, the breaker holds', () => {
    const ledger = createLedger()
    ledger.observe(announce('#42', T0), T0)
    ledger.observe(ping('a', T0), T0)
    ledger.observe(ping('b', T0), T0)
    ledger.observe(claim('#42', 'a', T0 + 1000, { claim_id: 7, lease_expires: ts(T0 + 1_200_000) }), T0 + 1000)
    // While a lives and its lease runs, nobody breaks it.
    expect(ledger.claimPlan(KEY, 'b', T0 + 5000)).toMatchObject({ claimable: false, breaks: undefined })
    ledger.observe(ping('b', T0 + 9000), T0 + 9000)
    // a is dead 9 s after it was last heard from: offered again, breaking claim 7, attempt 2.
    expect(ledger.claimPlan(KEY, 'b', T0 + 10_000)).toMatchObject({ claimable: true, shouldClaim: true, breaks: 7, attempt: 2 })
    ledger.observe(claim('#42', 'b', T0 + 12_000, { claim_id: 9, attempt: 2, breaks: 7, lease_expires: ts(T0 + 1_212_000) }), T0 + 12_000)
    const view = ledger.task(KEY, T0 + 12_000)!
    expect(view).toMatchObject({ status: 'claimed', attempt: 2, holder: { node: 'b', claimId: 9, breaks: 7 } })
    expect(view.breaks).toEqual([{ node: 'b', attempt: 2, claimId: 9, broke: 7 }])
    expect(view.attempts).toEqual([
      { attempt: 1, holder: 'a', claimId: 7, ended: 'broken', reason: 'broken' },
      { attempt: 2, holder: 'b', claimId: 9, ended: undefined, reason: undefined }
    ])
    // A lease that ran out needs no break.
    const l2 = createLedger()
    l2.observe(announce('#42', T0), T0)
    l2.observe(claim('#42', 'a', T0 + 1000, { claim_id: 7, lease_expires: ts(T0 + 5000) }), T0 + 1000)
    l2.observe(ping('a', T0 + 7000), T0 + 7000)
    expect(l2.claimPlan(KEY, 'a', T0 + 7000)).toMatchObject({ claimable: true, breaks: undefined })
  })

  it('a broken claim in the same attempt stops counting; a release says why', () => {
    const ledger = createLedger()
    ledger.observe(announce('#42', T0), T0)
    ledger.observe(claim('#42', 'a', T0 + 1000, { claim_id: 7 }), T0 + 1000)
    ledger.observe(claim('#42', 'b', T0 + 2000, { claim_id: 9, breaks: 7 }), T0 + 2000)
    expect(ledger.task(KEY, T0 + 2000)).toMatchObject({ holder: { node: 'b', claimId: 9 }, lostClaims: [] })
    ledger.observe(claim('#42', 'b', T0 + 3000, { claim_id: 9, state: 'released', reason: 'held' }), T0 + 3000)
    // With the breaker gone, a is broken all the same: the attempt ended.
    expect(ledger.task(KEY, T0 + 3000)).toMatchObject({ status: 'expired', holder: { node: 'a', state: 'released', releaseReason: 'broken' } })
  })

  it('a released task is offered again', () => {
    const ledger = createLedger()
    ledger.observe(announce('#42', T0), T0)
    ledger.observe(claim('#42', 'a', T0 + 1000), T0 + 1000)
    ledger.observe(claim('#42', 'a', T0 + 5000, { state: 'released' }), T0 + 5000)
    expect(ledger.task(KEY, T0 + 5000)).toMatchObject({ status: 'expired', expiredBecause: 'released', offeredAt: T0 + 5000, claimable: true })
  })

  it('places the design\'s repo-less samples in the one task of that id', () => {
    const ledger = createLedger()
    const later = Date.parse('2025-07-12T03:00:00Z')
    // The claim first: on its own it is a task keyed by the bare id…
    const claimSample = decode(SEED_SAMPLES.task_claim)
    ledger.observe(claimSample, Date.parse(claimSample.timestamp))
    const soon = Date.parse('2025-07-12T02:00:04Z')
    expect(ledger.task('#42', soon)?.status).toBe('claimed')
    // …and once an announcement names its repository, it is folded into that task.
    const broadcast = decode(SEED_SAMPLES.task_broadcast)
    ledger.observe(broadcast, Date.parse(broadcast.timestamp))
    expect(ledger.task('#42', soon)).toBeUndefined()
    expect(ledger.tasks(soon).map((t) => [t.key, t.status, t.holder?.node])).toEqual([['example-org/task-repo#42', 'claimed', 'pi-node-2']])
    const resultSample = decode(SEED_SAMPLES.task_result)
    ledger.observe(resultSample, Date.parse(resultSample.timestamp))
    expect(ledger.tasks(later).map((t) => [t.key, t.status, t.holder?.node])).toEqual([['example-org/task-repo#42', 'done', 'pi-node-2']])
  })

  it('keeps a repo-less message apart when two repositories share its task id', () => {
    const ledger = createLedger()
    ledger.observe(announce('#42', T0), T0)
    ledger.observe(announce('#42', T0, { repo: 'other/repo', issue_url: 'x' }), T0)
    ledger.observe(claim('#42', 'a', T0 + 1000, { repo: undefined }), T0 + 1000)
    expect(ledger.tasks(T0 + 2000).map((t) => [t.key, t.status])).toEqual([
      ['#42', 'claimed'],
      ['example-org/task-repo#42', 'announced'],
      ['other/repo#42', 'announced']
    ])
  })
})

describe('who should claim', () => {
  function mesh (now: number, nodes: string[]): ReturnType<typeof createLedger> {
    const ledger = createLedger({ standbyStepMs: 1500 })
    for (const n of nodes) ledger.observe(caps(n, now), now)
    return ledger
  }

  it('every peer computes the same preferred claimer; standbys wait rank * step', () => {
    const nodes = ['a', 'b', 'c', 'd']
    const ledger = mesh(T0, nodes)
    ledger.observe(announce('#42', T0), T0)
    const plans = nodes.map((n) => ledger.claimPlan(KEY, n, T0))
    const order = plans[0]!.candidates
    expect(order).toHaveLength(4)
    for (const p of plans) {
      expect(p.candidates).toEqual(order)
      expect(p.claimAt).toBe(T0 + order.indexOf(p.node) * 1500)
      expect(p.shouldClaim).toBe(p.node === order[0])
    }
    // Another ledger fed the same messages in another order agrees.
    const other = createLedger({ standbyStepMs: 1500 })
    other.observe(announce('#42', T0), T0)
    for (const n of [...nodes].reverse()) other.observe(caps(n, T0), T0)
    expect(other.claimPlan(KEY, 'a', T0).candidates).toEqual(order)
  })

  it('a dead first choice costs one step: the second claims at one step, once no claim appeared', () => {
    const nodes = ['a', 'b', 'c', 'd']
    const ledger = mesh(T0, nodes)
    ledger.observe(announce('#42', T0), T0)
    const [first, second, third] = ledger.claimPlan(KEY, 'a', T0).candidates as [string, string, string]
    // The first choice died as the task was announced: it never claims.
    expect(ledger.claimPlan(KEY, second, T0 + 1499).shouldClaim).toBe(false)
    expect(ledger.claimPlan(KEY, second, T0 + 1500).shouldClaim).toBe(true)
    expect(ledger.claimPlan(KEY, third, T0 + 1500).shouldClaim).toBe(false)
    ledger.observe(claim('#42', second, T0 + 1600), T0 + 1600)
    for (const n of nodes) expect(ledger.claimPlan(KEY, n, T0 + 3000).shouldClaim).toBe(false)
    // Once it is dead in every view, the first choice is no candidate at all.
    for (const n of nodes) if (n !== first) ledger.observe(ping(n, T0 + 9000), T0 + 9000)
    ledger.observe(announce('#43', T0 + 9000), T0 + 9000)
    const plan = ledger.claimPlan(`${REPO}#43`, first, T0 + 9000)
    expect(plan.candidates).toHaveLength(3)
    expect(plan).toMatchObject({ rank: -1, shouldClaim: false })
  })

  it('when a peer dies, only the tasks it was preferred for change preferred claimer (about 1/N)', () => {
    const nodes = Array.from({ length: 10 }, (_, i) => `12D3KooW-${i}`)
    const ledger = mesh(T0, nodes)
    for (let i = 0; i < 500; i++) ledger.observe(announce(`#${i}`, T0), T0)
    const before = ledger.tasks(T0).map((t) => ledger.claimPlan(t.key, nodes[0]!, T0).candidates[0])
    const dead = nodes[3]!
    for (const n of nodes) if (n !== dead) ledger.observe(ping(n, T0 + 9000), T0 + 9000)
    const after = ledger.tasks(T0 + 9000).map((t) => ledger.claimPlan(t.key, nodes[0]!, T0 + 9000).candidates[0])
    const moved = before.filter((b, i) => b !== after[i])
    expect(moved.every((b) => b === dead)).toBe(true)
    expect(moved.length).toBe(before.filter((b) => b === dead).length)
    expect(moved.length).toBeGreaterThan(20)
    expect(moved.length).toBeLessThan(80)
  })

  it('only peers that satisfy the requirements and have a free slot are candidates', () => {
    const ledger = createLedger()
    ledger.observe(caps('gpu', T0, { gpus: [{ name: 'rtx', mem_total_mb: 24_000, mem_used_mb: 1000 }] }), T0)
    ledger.observe(caps('cpu', T0), T0)
    ledger.observe(caps('full', T0, { gpus: [{ name: 'rtx' }], slots_free: 0 }), T0)
    ledger.observe(caps('drain', T0, { gpus: [{ name: 'rtx' }], status: 'draining' }), T0)
    ledger.observe(announce('#42', T0, { requirements: { gpu: true, min_gpu_mem_free_mb: 8000 } }), T0)
    expect(ledger.claimPlan(KEY, 'cpu', T0)).toMatchObject({ candidates: ['gpu'], rank: -1, shouldClaim: false, claimAt: undefined })
    expect(ledger.claimPlan(KEY, 'gpu', T0)).toMatchObject({ rank: 0, shouldClaim: true, attempt: 1 })
  })

  it('after a lease expires the re-offer carries the next attempt and starts at the lease end', () => {
    const ledger = mesh(T0, ['a', 'b', 'c'])
    ledger.observe(announce('#42', T0), T0)
    ledger.observe(claim('#42', 'a', T0, { lease_expires: ts(T0 + 5000) }), T0)
    for (const n of ['a', 'b', 'c']) ledger.observe(ping(n, T0 + 6000), T0 + 6000)
    const plans = ['a', 'b', 'c'].map((n) => ledger.claimPlan(KEY, n, T0 + 6000))
    for (const p of plans) {
      expect(p.attempt).toBe(2)
      expect(p.claimAt).toBe(T0 + 6000 + p.rank * 1500)
    }
  })
})

describe('watchers', () => {
  it('elects one watcher and a standby per repository, the same everywhere', () => {
    const ledger = createLedger()
    for (const n of ['a', 'b', 'c', 'd', 'e']) ledger.observe(ping(n, T0), T0)
    const w = ledger.watchers(REPO, T0)
    expect(w.order).toHaveLength(5)
    expect(w.watcher).toBe(w.order[0])
    expect(w.standby).toBe(w.order[1])
    // Repositories spread over the peers.
    const watchers = new Set(Array.from({ length: 50 }, (_, i) => ledger.watchers(`org/repo-${i}`, T0).watcher))
    expect(watchers.size).toBeGreaterThan(3)
  })

  it('the standby takes over when the watcher dies, not while it is only suspect, and hands back when it lives again', () => {
    const ledger = createLedger()
    for (const n of ['a', 'b', 'c']) ledger.observe(ping(n, T0), T0)
    const { watcher, standby } = ledger.watchers(REPO, T0)
    const others = ['a', 'b', 'c'].filter((n) => n !== watcher)
    for (const n of others) ledger.observe(ping(n, T0 + 6000), T0 + 6000)
    expect(ledger.watchers(REPO, T0 + 6000).watcher).toBe(watcher)
    for (const n of others) ledger.observe(ping(n, T0 + 9000), T0 + 9000)
    expect(ledger.watchers(REPO, T0 + 9000).watcher).toBe(standby)
    // Heard again: first again (the kept order follows the candidates both ways).
    ledger.observe(ping(watcher!, T0 + 9500), T0 + 9500)
    expect(ledger.watchers(REPO, T0 + 9500)).toMatchObject({ watcher, standby })
  })
})

describe('help', () => {
  it('accepts the best usable offer once the collection window has passed', () => {
    const ledger = createLedger({ help: { collectMs: 2000, timeoutMs: 30_000 } })
    for (const n of ['req', 'slow', 'busy', 'best', 'nocap', 'no']) ledger.observe(ping(n, T0), T0)
    ledger.observe(ping('busy', T0, { load: { cpu: 95 } }), T0)
    ledger.observe(announce('#42', T0), T0)
    ledger.observe(helpRequest('#42', 'req', T0, { request_id: 'r1' }), T0)
    ledger.observe(helpResponse('#42', 'slow', T0 + 300, { request_id: 'r1', eta_seconds: 120 }), T0 + 300)
    ledger.observe(helpResponse('#42', 'busy', T0 + 400, { request_id: 'r1', eta_seconds: 10 }), T0 + 400)
    ledger.observe(helpResponse('#42', 'best', T0 + 500, { request_id: 'r1', eta_seconds: 10, load: 20 }), T0 + 500)
    ledger.observe(helpResponse('#42', 'nocap', T0 + 500, { request_id: 'r1', eta_seconds: 0, capabilities: ['ollama'] }), T0 + 500)
    ledger.observe(helpResponse('#42', 'no', T0 + 500, { request_id: 'r1', can_help: false }), T0 + 500)
    ledger.observe(helpResponse('#42', 'best', T0 + 500, { request_id: 'other', eta_seconds: 0 }), T0 + 500)
    const waiting = ledger.help(KEY, T0 + 1000)[0]!
    expect(waiting).toMatchObject({ requestId: 'r1', status: 'waiting', decideAt: T0 + 2000, declined: ['no'] })
    const matched = ledger.help(KEY, T0 + 2000)[0]!
    expect(matched.status).toBe('matched')
    expect(matched.offers.map((o) => o.node)).toEqual(['best', 'busy', 'slow'])
    ledger.observe(helpRequest('#42', 'req', T0 + 2100, { request_id: 'r1', accepted_node: 'best' }), T0 + 2100)
    expect(ledger.help(KEY, T0 + 2100)[0]).toMatchObject({ status: 'accepted', acceptedNode: 'best' })
  })

  it('links an acceptance without request_id to the request it accepts', () => {
    const ledger = createLedger({ help: { collectMs: 1000, timeoutMs: 20_000 } })
    for (const n of ['req', 'helper']) ledger.observe(ping(n, T0), T0)
    ledger.observe(helpRequest('#42', 'req', T0), T0)
    ledger.observe(helpResponse('#42', 'helper', T0 + 300, { to_node: 'req' }), T0 + 300)
    expect(ledger.help(KEY, T0 + 1000)).toMatchObject([{ status: 'matched', offers: [{ node: 'helper' }] }])
    // The requester publishes its request again, now, with the accepted node.
    ledger.observe(helpRequest('#42', 'req', T0 + 1500, { accepted_node: 'helper' }), T0 + 1500)
    expect(ledger.help(KEY, T0 + 1500)).toMatchObject([{ requestId: `req@${ts(T0)}`, status: 'accepted', acceptedNode: 'helper' }])
  })

  it('times out when nobody usable answers, and ignores offers from dead peers', () => {
    const ledger = createLedger({ help: { collectMs: 1000, timeoutMs: 20_000 } })
    ledger.observe(helpRequest('#42', 'req', T0, { requirements: { gpu: true } }), T0)
    ledger.observe(caps('nogpu', T0), T0)
    ledger.observe(helpResponse('#42', 'nogpu', T0 + 100, { to_node: 'req' }), T0 + 100)
    expect(ledger.help(KEY, T0 + 19_999)[0]).toMatchObject({ status: 'waiting', offers: [], decideAt: T0 + 20_000 })
    expect(ledger.help(KEY, T0 + 20_000)[0]).toMatchObject({ status: 'timed_out', decideAt: undefined })
    // A GPU helper answers, but it is dead by the time the requester looks.
    ledger.observe(caps('gpu', T0, { gpus: [{ name: 'rtx' }] }), T0)
    ledger.observe(helpResponse('#42', 'gpu', T0 + 200, { to_node: 'req' }), T0 + 200)
    expect(ledger.help(KEY, T0 + 5000)[0]).toMatchObject({ status: 'matched', offers: [{ node: 'gpu' }] })
    expect(ledger.help(KEY, T0 + 20_000)[0]).toMatchObject({ status: 'timed_out' })
  })
})

describe('hasMessage', () => {
  it('tells a replayed task message from a new one, though both refresh the sender', () => {
    const ledger = createLedger()
    const a = announce('#42', T0, { node_id: 'w' } as never)
    expect(ledger.hasMessage(a)).toBe(false)
    expect(ledger.observe(a, T0)).toBe(true)
    expect(ledger.hasMessage(a)).toBe(true)
    expect(ledger.hasMessage(announce('#43', T0))).toBe(false)
    expect(ledger.hasMessage(ping('a', T0))).toBe(false)
  })
})
