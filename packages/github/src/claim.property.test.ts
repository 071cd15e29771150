import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decide, formatClaimBody, holderValid, parseClaimMarker, renewalWasLate, standing,
  type ClaimComment, type ClaimMarker
} from './claim.js'

const T0 = Date.parse('2025-01-01T00:00:00Z')
const iso = (ms: number): string => new Date(ms).toISOString()

function marker (node: string, leaseMs: number, attempt = 1, state: ClaimMarker['state'] = 'claimed'): ClaimMarker {
  return { v: 1, node, lease_ms: leaseMs, lease_expires: iso(T0 + leaseMs), attempt, state, nonce: `n${node}` }
}

function comment (id: number, login: string, m: ClaimMarker | string, createdAt: number, updatedAt = createdAt): ClaimComment {
  return { id, user: { login }, body: typeof m === 'string' ? m : formatClaimBody(m), created_at: iso(createdAt), updated_at: iso(updatedAt) }
}

/**
 * A model of the race on one issue, in server time. Each racer posts a claim (ids follow post
 * order), waits `settle`, then reads a list that lags: a comment appears in lists only `lag_c ≤ L`
 * after it was created, and a deleted one vanishes only `lag ≤ L` after its deletion. Losers
 * delete their comments some time after deciding.
 */
interface Racer { post: number, extraDelay: number, deleteAfter: number }

function race (racers: Racer[], L: number, settle: number, lagOf: (id: number) => number, graceMs: number, leaseMs: number, prior: ClaimComment[] = []) {
  const order = racers.map((r, i) => ({ ...r, i })).sort((a, b) => a.post - b.post || a.i - b.i)
  const firstId = 1000
  const posted = order.map((r, k) => ({ ...r, id: firstId + k, readAt: r.post + settle + r.extraDelay }))
  // Decide in read-time order so that deletions by earlier deciders are known.
  const deletedAt = new Map<number, number>()
  const results = new Map<number, ReturnType<typeof standing>>()
  for (const r of [...posted].sort((a, b) => a.readAt - b.readAt)) {
    const visible = posted.filter((o) => {
      if (o.post + lagOf(o.id) > r.readAt) return false
      const del = deletedAt.get(o.id)
      return del === undefined || del + lagOf(o.id) > r.readAt
    }).map((o) => comment(o.id, `u${o.i}`, marker(`node${o.i}`, leaseMs), o.post))
    const own = comment(r.id, `u${r.i}`, marker(`node${r.i}`, leaseMs), r.post)
    const d = decide({ comments: [...prior, ...visible], own, serverNow: r.readAt, graceMs })
    const s = standing(d, r.id, r.readAt + 1000, 1000)
    results.set(r.id, s)
    if (s.status !== 'won') deletedAt.set(r.id, r.readAt + r.deleteAfter)
  }
  return { posted, results }
}

const racerArb = fc.record({ post: fc.integer({ min: 0, max: 3000 }), extraDelay: fc.integer({ min: 0, max: 2000 }), deleteAfter: fc.integer({ min: 0, max: 500 }) })

describe('claim decision', () => {
  it('a fresh race has exactly one winner, the lowest id, and every other racer knows it lost (settle ≥ list lag)', () => {
    fc.assert(fc.property(
      fc.array(racerArb, { minLength: 1, maxLength: 25 }),
      fc.integer({ min: 0, max: 1500 }),
      fc.integer({ min: 0, max: 1000 }),
      fc.infiniteStream(fc.integer({ min: 0, max: 1_000_000 })),
      (racers, L, extraSettle, lagStream) => {
        const lags = new Map<number, number>()
        const it = lagStream[Symbol.iterator]()
        const lagOf = (id: number): number => {
          if (!lags.has(id)) lags.set(id, (it.next().value as number) % (L + 1))
          return lags.get(id)!
        }
        const { posted, results } = race(racers, L, L + extraSettle, lagOf, L + 2000, 60_000)
        const winners = [...results].filter(([, s]) => s.status === 'won').map(([id]) => id)
        expect(winners).toEqual([Math.min(...posted.map((p) => p.id))])
        for (const [id, s] of results) if (id !== winners[0]) expect(s.status).toBe('lost')
      }
    ), { numRuns: 500 })
  })

  it('without a settle delay list lag can make two winners (why the settle delay exists)', () => {
    // Racer A posts at 0 (id 1000), B at 10 (id 1001); A's comment lags 300 ms in lists.
    // B reads at 20 and does not see A: with no settle, both believe they won.
    const lagOf = (id: number): number => id === 1000 ? 300 : 0
    const { results } = race([{ post: 0, extraDelay: 0, deleteAfter: 0 }, { post: 10, extraDelay: 0, deleteAfter: 0 }], 300, 10, lagOf, 2000, 60_000)
    expect([...results.values()].filter((s) => s.status === 'won')).toHaveLength(2)
  })

  it('a renewing holder is never overtaken; a dead one is overtaken by exactly one claimer after lease + grace', () => {
    fc.assert(fc.property(
      fc.array(racerArb, { minLength: 1, maxLength: 15 }),
      fc.integer({ min: 0, max: 1000 }),
      fc.boolean(),
      fc.integer({ min: 5_000, max: 30_000 }),
      fc.integer({ min: 0, max: 60_000 }),
      (racers, L, alive, leaseMs, start) => {
        const graceMs = L + 2000
        const renewEvery = Math.floor(leaseMs / 3)
        const lastStop = 1000 // the holder's last renewal when dead
        // The holder's comment (id 1) as a list read at time t sees it: the version of t - L at worst.
        const holderAt = (t: number): ClaimComment => {
          const seen = Math.max(0, t - L)
          const updated = alive ? seen - (seen % renewEvery) : Math.min(lastStop, seen)
          return comment(1, 'holder', marker('holder', leaseMs), 0, updated)
        }
        const shifted = racers.map((r) => ({ ...r, post: r.post + start }))
        // A race where each reader sees the holder's comment as of its own read.
        const order = shifted.map((r, i) => ({ ...r, i })).sort((a, b) => a.post - b.post || a.i - b.i)
        const posted = order.map((r, k) => ({ ...r, id: 1000 + k, readAt: r.post + L + r.extraDelay }))
        const won: number[] = []
        for (const r of posted) {
          const visible = posted.filter((o) => o.post + L <= r.readAt).map((o) => comment(o.id, `u${o.i}`, marker(`n${o.i}`, leaseMs), o.post))
          const own = comment(r.id, `u${r.i}`, marker(`n${r.i}`, leaseMs), r.post)
          const d = decide({ comments: [holderAt(r.readAt), ...visible], own, serverNow: r.readAt, graceMs })
          if (standing(d, r.id, r.readAt + 1000, 1000).status === 'won') won.push(r.id)
        }
        if (alive) expect(won).toEqual([])
        else {
          expect(won.length).toBeLessThanOrEqual(1)
          const firstId = posted[0]!.id
          // Every racer that posts after the lease lapsed settles on the lowest of them.
          if (posted.every((p) => p.post > lastStop + leaseMs + graceMs)) expect(won).toEqual([firstId])
        }
      }
    ), { numRuns: 400 })
  })

  it('terminal claims hold for ever; the next attempt counts expired ones', () => {
    const done = comment(5, 'a', marker('a', 1000, 1, 'done'), T0)
    const d = decide({ comments: [done], own: comment(9, 'b', marker('b', 1000), T0 + 10_000_000), serverNow: T0 + 10_000_000, graceMs: 0 })
    expect(standing(d, 9, T0 + 10_000_000, 0)).toMatchObject({ status: 'lost', reason: 'completed' })
    const expired = comment(5, 'a', marker('a', 1000, 3), T0)
    const d2 = decide({ comments: [expired], serverNow: T0 + 60_000, graceMs: 1000 })
    expect(d2.nextAttempt).toBe(4)
    expect(d2.winner).toBeUndefined()
  })

  it('a break: the named claim stops counting for every reader, whatever the lease; terminal claims cannot be broken; a lower id cannot break a higher one', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.constantFrom<ClaimMarker['state']>('claimed', 'done', 'failed'), fc.integer({ min: 0, max: 10_000 }),
      (target, breaker, state, at) => {
        if (target === breaker) return
        const cs = [
          comment(1000 + target, 'a', marker('a', 600_000, 1, state), T0),
          comment(1000 + breaker, 'b', { ...marker('b', 600_000, 2), breaks: 1000 + target }, T0 + 1000)
        ]
        const d = decide({ comments: cs, serverNow: T0 + at, graceMs: 2000 })
        const broken = state === 'claimed' && breaker > target
        expect(d.broken.has(1000 + target)).toBe(broken)
        expect(d.live.some((c) => c.id === 1000 + target)).toBe(!broken)
        if (broken) {
          expect(d.winner?.id).toBe(1000 + breaker)
          expect(d.nextAttempt).toBe(2)
        }
      }
    ))
  })

  it('a renewal that landed more than a lease after the version it renews counts for nobody (no revival)', () => {
    fc.assert(fc.property(fc.integer({ min: 1000, max: 60_000 }), fc.integer({ min: 0, max: 120_000 }), (leaseMs, delay) => {
      const renews = iso(T0)
      const c = comment(1000, 'a', { ...marker('a', leaseMs), renews }, T0 - 5000, T0 + delay)
      const d = decide({ comments: [c], serverNow: T0 + delay, graceMs: 2000 })
      expect(d.winner === undefined).toBe(delay > leaseMs)
    }))
  })

  it('the holder judges its own lease strictly, and detects a late renewal', () => {
    const c = { updatedAt: T0, marker: marker('h', 10_000) }
    expect(holderValid(c, T0 + 8_999, 1000)).toBe(true)
    expect(holderValid(c, T0 + 9_000, 1000)).toBe(false)
    expect(renewalWasLate(T0, T0 + 10_000, 10_000)).toBe(false)
    expect(renewalWasLate(T0, T0 + 10_001, 10_000)).toBe(true)
  })

  it('markers from untrusted logins are ignored when claimants are configured', () => {
    const intruder = comment(1, 'mallory', marker('x', 60_000), T0)
    const mine = comment(2, 'alice', marker('a', 60_000), T0 + 1)
    const d = decide({ comments: [intruder, mine], serverNow: T0 + 2, graceMs: 0, trustedClaimants: ['Alice'] })
    expect(d.winner?.id).toBe(2)
    expect(decide({ comments: [intruder, mine], serverNow: T0 + 2, graceMs: 0 }).winner?.id).toBe(1)
  })
})

describe('claim marker', () => {
  const markerArb: fc.Arbitrary<ClaimMarker> = fc.record({
    v: fc.constant(1 as const),
    node: fc.stringMatching(/^[A-Za-z0-9._:/+=-]{1,128}$/),
    lease_ms: fc.integer({ min: 1, max: 24 * 3600_000 }),
    lease_expires: fc.integer({ min: 0, max: 4e12 }).map((ms) => new Date(ms).toISOString()),
    attempt: fc.integer({ min: 1, max: 1_000_000 }),
    state: fc.constantFrom('claimed' as const, 'done' as const, 'failed' as const),
    nonce: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/)
  })

  it('round-trips', () => {
    fc.assert(fc.property(markerArb, (m) => {
      expect(parseClaimMarker(formatClaimBody(m))).toEqual(m)
    }))
  })

  it('never throws on garbage and accepts nothing malformed', () => {
    fc.assert(fc.property(fc.string(), fc.jsonValue(), (s, j) => {
      expect(() => parseClaimMarker(s)).not.toThrow()
      const body = `<!-- bzzz:claim ${JSON.stringify(j)} -->`
      const parsed = parseClaimMarker(body)
      if (parsed !== undefined) expect(parsed.v).toBe(1)
    }))
    for (const bad of [
      '<!-- bzzz:claim {"v":2,"node":"a","lease_ms":1,"lease_expires":"x","attempt":1,"state":"claimed","nonce":"n"} -->',
      '<!-- bzzz:claim {"v":1,"node":"a b","lease_ms":1,"lease_expires":"x","attempt":1,"state":"claimed","nonce":"n"} -->',
      '<!-- bzzz:claim {"v":1,"node":"a","lease_ms":0,"lease_expires":"x","attempt":1,"state":"claimed","nonce":"n"} -->',
      '<!-- bzzz:claim {"v":1,"node":"a","lease_ms":1,"lease_expires":"x","attempt":1,"state":"won","nonce":"n"} -->',
      '<!-- bzzz:claim {"v":1,"node":"a","lease_ms":1,"lease_expires":"x","attempt":1,"state":"claimed","nonce":"n","extra":1} -->',
      '<!-- bzzz:claim {"v":1,"node":"a","lease_ms":1,"lease_expires":"x","attempt":1.5,"state":"claimed","nonce":"n"} -->',
      '<!-- bzzz:claim {not json} -->',
      '<!-- bzzz:claim [] -->'
    ]) expect(parseClaimMarker(bad)).toBeUndefined()
  })

  it('a garbage marker in a comment does not crash a decision and does not count', () => {
    const d = decide({
      comments: [{ id: 1, user: null, body: '<!-- bzzz:claim {"v":1} -->', created_at: 'nope', updated_at: 'nope' }, { id: 2, body: null, created_at: iso(T0), updated_at: iso(T0) }],
      serverNow: T0,
      graceMs: 0
    })
    expect(d.claims).toEqual([])
  })
})
