import fc from 'fast-check'
import { rendezvousRank } from '@bzzz/state'
import { describe, expect, it } from 'vitest'
import { expectedClaimer, planClaims, type SchedulePeer, type ScheduleTask } from './scheduler.js'

const STEP = 1000
const order = (key: string, ids: readonly string[]): readonly string[] => rendezvousRank(key, ids)

// A mesh everyone sees alike: peers with free slots (0..3), some busy claiming tasks, tasks offered at times.
const meshArb = fc.record({
  peers: fc.uniqueArray(fc.stringMatching(/^p[a-f0-9]{3}$/), { minLength: 1, maxLength: 8 }),
  slots: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
  tasks: fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { minLength: 0, maxLength: 15 }).map((ns) => ns.map((n) => `o/r#${n}`)),
  offered: fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 15, maxLength: 15 }),
  now: fc.integer({ min: 0, max: 12_000 })
})

type Mesh = { peers: string[], slots: number[], tasks: string[], offered: number[], now: number }

function views (m: Mesh): { peers: SchedulePeer[], tasks: ScheduleTask[] } {
  return {
    peers: m.peers.map((id, i) => ({ nodeId: id, alive: true, hasFreeSlot: m.slots[i]! > 0, activeTasks: [] })),
    tasks: m.tasks.map((key, i) => ({ key, offeredAt: Math.min(m.offered[i]!, m.now) }))
  }
}

function planOf (m: Mesh, i: number, firstSeen = new Map<string, { first: string, since: number }>()): ReturnType<typeof planClaims> {
  const v = views(m)
  return planClaims({ self: m.peers[i]!, now: m.now, freeSlots: m.slots[i]!, standbyStepMs: STEP, tasks: v.tasks, peers: v.peers, order, firstSeen })
}

describe('planClaims', () => {
  it('in one view, no two peers claim the same task at once, and none claims more than its free slots', () => {
    fc.assert(fc.property(meshArb, (m) => {
      const seen = new Map<string, string>()
      for (let i = 0; i < m.peers.length; i++) {
        const plan = planOf(m, i)
        expect(plan.claim.length).toBeLessThanOrEqual(Math.max(0, m.slots[i]!))
        for (const key of plan.claim) {
          expect(seen.get(key), `${key} claimed by ${seen.get(key)} and ${m.peers[i]}`).toBeUndefined()
          seen.set(key, m.peers[i]!)
        }
      }
    }))
  })

  it('a peer with no free slot claims nothing', () => {
    fc.assert(fc.property(meshArb, fc.nat(7), (m, j) => {
      const i = j % m.peers.length
      m.slots[i] = 0
      expect(planOf(m, i).claim).toEqual([])
    }))
  })

  it('every task has its first-ranked free peer claim it, unless that peer has used its slots on older offers', () => {
    fc.assert(fc.property(meshArb, (m) => {
      const plans = m.peers.map((_, i) => planOf(m, i))
      const free = m.peers.filter((_, i) => m.slots[i]! > 0)
      const claimed = new Set(plans.flatMap((p) => p.claim))
      for (const key of m.tasks) {
        const first = rendezvousRank(key, free)[0]
        if (first === undefined) { expect(claimed.has(key)).toBe(false); continue }
        const i = m.peers.indexOf(first)
        const mine = plans[i]!.claim
        // The first peer claims it, or it is full of other tasks it ranks first on.
        expect(mine.includes(key) || mine.length === m.slots[i]).toBe(true)
      }
    }))
  })

  it('a task someone is claiming already is left to it: the others only stand by', () => {
    fc.assert(fc.property(meshArb, fc.nat(7), (m, j) => {
      if (m.tasks.length === 0 || m.peers.length < 2) return
      const holder = j % m.peers.length
      const key = m.tasks[0]!
      const v = views(m)
      v.peers[holder] = { ...v.peers[holder]!, activeTasks: [key] }
      for (let i = 0; i < m.peers.length; i++) {
        if (i === holder) continue
        const plan = planClaims({ self: m.peers[i]!, now: m.now, freeSlots: m.slots[i]!, standbyStepMs: STEP, tasks: v.tasks, peers: v.peers, order, firstSeen: new Map() })
        // With no history, a standby's turn starts now: nobody else claims it in this plan.
        expect(plan.claim).not.toContain(key)
      }
    }))
  })

  it('a standby claims after rank × step once the first candidate stays silent, and not before', () => {
    const peers: SchedulePeer[] = ['a', 'b', 'c'].map((id) => ({ nodeId: id, alive: true, hasFreeSlot: true, activeTasks: [] }))
    const key = 'o/r#1'
    const ids = order(key, ['a', 'b', 'c'])
    const [, second, third] = ids
    const input = (self: string, now: number, firstSeen: Map<string, { first: string, since: number }>): Parameters<typeof planClaims>[0] =>
      ({ self, now, freeSlots: 1, standbyStepMs: STEP, tasks: [{ key, offeredAt: 0 }], peers, order, firstSeen })
    let s2 = planClaims(input(second!, 5000, new Map()))
    expect(s2.claim).toEqual([])
    expect(s2.nextAt).toBe(5000 + STEP)
    s2 = planClaims(input(second!, 5000 + STEP - 1, s2.firstSeen))
    expect(s2.claim).toEqual([])
    expect(planClaims(input(second!, 5000 + STEP, s2.firstSeen)).claim).toEqual([key])
    expect(planClaims(input(third!, 5000 + STEP, s2.firstSeen)).claim).toEqual([])
    expect(planClaims(input(third!, 5000 + 2 * STEP, s2.firstSeen)).claim).toEqual([key])
  })

  it('a new first candidate (the old one filled its slots) gets a full step before the standbys move', () => {
    const key = 'o/r#2'
    const ids = order(key, ['a', 'b', 'c'])
    const [first, second, third] = ids as [string, string, string]
    const peers = (firstFree: boolean): SchedulePeer[] => ids.map((id) => ({ nodeId: id, alive: true, hasFreeSlot: id !== first || firstFree, activeTasks: [] }))
    const plan = (self: string, now: number, free: boolean, firstSeen: Map<string, { first: string, since: number }>): ReturnType<typeof planClaims> =>
      planClaims({ self, now, freeSlots: 1, standbyStepMs: STEP, tasks: [{ key, offeredAt: 0 }], peers: peers(free), order, firstSeen })
    const before = plan(third, 100, true, new Map())
    expect(before.firstSeen.get(key)?.first).toBe(first)
    // The first fills its slots at 9000: the second is first now and claims at once; the third waits again.
    expect(plan(second, 9000, false, new Map()).claim).toEqual([key])
    const after = plan(third, 9000, false, before.firstSeen)
    expect(after.claim).toEqual([])
    expect(after.nextAt).toBe(9000 + STEP)
  })
})

describe('expectedClaimer', () => {
  it('names the one peer whose own plan, in the same view, claims a new task at once', () => {
    fc.assert(fc.property(meshArb, fc.nat(7), fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), (m, j, ineligible) => {
      const v = views(m)
      const watcher = m.peers[j % m.peers.length]!
      const eligible = (id: string): boolean => !ineligible[m.peers.indexOf(id)]
      for (const task of v.tasks) {
        const t = { ...task, eligible }
        const expected = expectedClaimer({ self: watcher, freeSlots: m.slots[m.peers.indexOf(watcher)]!, task: t, peers: v.peers, order })
        // With no first-seen state a standby is never due yet: a peer claims only at rank 0.
        const atOnce = m.peers.filter((id, i) => planClaims({ self: id, now: m.now, freeSlots: m.slots[i]!, standbyStepMs: STEP, tasks: [t], peers: v.peers, order, firstSeen: new Map() }).claim.length > 0)
        expect(atOnce).toEqual(expected === undefined ? [] : [expected])
        if (expected !== undefined) {
          const i = m.peers.indexOf(expected)
          expect(m.slots[i]).toBeGreaterThan(0)
          expect(eligible(expected)).toBe(true)
        } else {
          expect(m.peers.every((id, i) => m.slots[i] === 0 || !eligible(id))).toBe(true)
        }
      }
    }))
  })

  it('prefers a live peer that claims the task already, and skips peers that are not alive', () => {
    const peers: SchedulePeer[] = [
      { nodeId: 'a', alive: true, hasFreeSlot: true, activeTasks: [] },
      { nodeId: 'b', alive: true, hasFreeSlot: false, activeTasks: ['o/r#1'] },
      { nodeId: 'c', alive: false, hasFreeSlot: true, activeTasks: [] }
    ]
    const fixed = (_key: string, ids: readonly string[]): readonly string[] => ['c', 'a', 'b', 'w'].filter((id) => ids.includes(id))
    expect(expectedClaimer({ self: 'w', freeSlots: 1, task: { key: 'o/r#1', offeredAt: 0 }, peers, order: fixed })).toBe('b')
    expect(expectedClaimer({ self: 'w', freeSlots: 1, task: { key: 'o/r#2', offeredAt: 0 }, peers, order: fixed })).toBe('a')
    expect(expectedClaimer({ self: 'w', freeSlots: 1, task: { key: 'o/r#2', offeredAt: 0, eligible: (id) => id !== 'a' }, peers, order: fixed })).toBe('w')
    expect(expectedClaimer({ self: 'w', freeSlots: 0, task: { key: 'o/r#2', offeredAt: 0, eligible: (id) => id !== 'a' }, peers, order: fixed })).toBeUndefined()
  })
})
