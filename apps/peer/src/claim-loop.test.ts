import type { Message } from '@bzzz/protocol'
import { createLedger } from '@bzzz/state'
import { describe, expect, it } from 'vitest'
import { createClaimLoop, mayMakeClaimable, type ClaimLoop } from './claim-loop.js'

// When the loop plans: each plan reads the free slots first, so the reads count the plans.
function loop (minGapMs: number, idleEveryMs = 60_000, burst = 1): { claims: ClaimLoop, plans: () => number } {
  let plans = 0
  const claims = createClaimLoop({
    nodeId: 'self',
    ledger: createLedger({ selfId: 'self' }),
    now: () => performance.now(),
    standbyStepMs: 1000,
    minGapMs,
    idleEveryMs,
    burst,
    freeSlots: () => { plans++; return 1 },
    skipped: () => false,
    delegatedTo: () => undefined,
    start: () => {}
  })
  return { claims, plans: () => plans }
}

const turn = async (ms = 0): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

describe('the claim loop', () => {
  it('plans a poke past the gap at once, before any timer turn, and folds the pokes of one turn into one plan', async () => {
    const { claims, plans } = loop(50)
    claims.poke()
    claims.poke()
    expect(plans()).toBe(0) // not inside the caller
    await Promise.resolve()
    expect(plans()).toBe(1) // after the caller's microtasks
    await turn()
    expect(plans()).toBe(1)
    claims.stop()
  })

  it('holds pokes within the gap until it ends, then plans once for all of them', async () => {
    const { claims, plans } = loop(80)
    claims.run()
    expect(plans()).toBe(1)
    claims.poke()
    claims.poke()
    await turn(20)
    claims.poke()
    expect(plans()).toBe(1)
    await turn(100)
    expect(plans()).toBe(2)
    claims.stop()
  })

  it('plans nothing after stop, whatever was pending', async () => {
    const { claims, plans } = loop(80)
    claims.poke() // due now: a microtask
    claims.stop()
    await turn(10)
    const { claims: other, plans: otherPlans } = loop(80)
    other.run()
    other.poke() // within the gap: a timer
    other.stop()
    await turn(120)
    expect(plans()).toBe(0)
    expect(otherPlans()).toBe(1)
  })

  it('a plan run between a poke and its microtask stands for both', async () => {
    const { claims, plans } = loop(50)
    claims.poke()
    claims.run()
    expect(plans()).toBe(1)
    await Promise.resolve()
    expect(plans()).toBe(1)
    claims.poke() // within the gap now: waits for its end
    await turn(80)
    expect(plans()).toBe(2)
    claims.stop()
  })

  it('plans up to `burst` pokes within a gap at once (the announcements of one poll), then waits for the window to move on', async () => {
    const { claims, plans } = loop(80, 60_000, 3)
    for (let i = 1; i <= 3; i++) {
      claims.poke()
      await Promise.resolve()
      expect(plans()).toBe(i)
    }
    claims.poke()
    claims.poke()
    await turn(10)
    expect(plans()).toBe(3)
    await turn(100)
    expect(plans()).toBe(4) // both pokes in one plan
    claims.stop()
  })

  it("a tick's idle plan does not hold back a poke: a task announced just after it is planned at once", async () => {
    const { claims, plans } = loop(80, 0)
    claims.tick()
    expect(plans()).toBe(1)
    claims.poke()
    await Promise.resolve()
    expect(plans()).toBe(2) // not after the rest of the gap
    claims.poke() // within the gap of the poke's plan: waits for its end
    await Promise.resolve()
    expect(plans()).toBe(2)
    await turn(120)
    expect(plans()).toBe(3)
    claims.stop()
  })

  it('ticks: plans on its own only once idleEveryMs has passed since the last plan', async () => {
    const { claims, plans } = loop(0, 60)
    claims.run()
    claims.tick()
    expect(plans()).toBe(1)
    await turn(80)
    claims.tick()
    expect(plans()).toBe(2)
    claims.stop()
  })
})

describe('which task messages plan at once', () => {
  const at = '2026-12-03T12:00:00Z'
  const claim = (state?: 'claimed' | 'running' | 'released'): Message => ({ type: 'task_claim', v: 1, task_id: '#1', repo: 'o/r', node_id: 'n2', timestamp: at, attempt: 1, ...(state !== undefined ? { state } : {}) })
  it('an announcement and a release do; a claim, progress and a result do not', () => {
    expect(mayMakeClaimable({ type: 'task', task_id: '#1', repo: 'o/r', issue_url: 'u', model: 'm', input: 'x', params: {}, timestamp: at })).toBe(true)
    expect(mayMakeClaimable(claim('released'))).toBe(true)
    expect(mayMakeClaimable(claim('claimed'))).toBe(false)
    expect(mayMakeClaimable(claim('running'))).toBe(false)
    expect(mayMakeClaimable(claim())).toBe(false)
    expect(mayMakeClaimable({ type: 'task_result', v: 1, task_id: '#1', repo: 'o/r', node_id: 'n2', result_type: 'pull_request', result_url: 'u', duration_ms: 1, timestamp: at })).toBe(false)
    expect(mayMakeClaimable({ type: 'task_help_request', task_id: '#1', repo: 'o/r', from_node: 'n2', requested_capability: 'gpu', reason: 'r', timestamp: at })).toBe(true)
  })
})
