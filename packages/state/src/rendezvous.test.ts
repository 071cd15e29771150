import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { rendezvousRank, rendezvousWeight } from './rendezvous.js'

const peerIds = (n: number, seed: number): string[] => Array.from({ length: n }, (_, i) => `12D3KooW-peer-${seed}-${i}`)
const tasks = Array.from({ length: 3000 }, (_, i) => `example-org/task-repo#${i}`)

describe('rendezvous hashing', () => {
  it('ranks the same way whatever the order of the peers, and keeps every peer once', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 12 }), fc.string(), (ids, key) => {
      const ranked = rendezvousRank(key, ids)
      expect(rendezvousRank(key, [...ids].reverse())).toEqual(ranked)
      expect(rendezvousRank(key, [...ids, ...ids])).toEqual(ranked)
      expect([...ranked].sort()).toEqual([...ids].sort())
      for (let i = 1; i < ranked.length; i++) {
        expect(rendezvousWeight(key, ranked[i - 1]!) >= rendezvousWeight(key, ranked[i]!)).toBe(true)
      }
    }))
  })

  it('spreads tasks evenly over the peers', () => {
    const peers = peerIds(10, 0)
    const counts = new Map<string, number>()
    for (const t of tasks) {
      const first = rendezvousRank(t, peers)[0]!
      counts.set(first, (counts.get(first) ?? 0) + 1)
    }
    // 300 expected per peer; a binomial standard deviation is about 16.
    for (const p of peers) expect(counts.get(p) ?? 0).toBeGreaterThan(220)
    for (const p of peers) expect(counts.get(p) ?? 0).toBeLessThan(380)
  })

  it('when one peer joins or leaves among N, only the tasks it wins or won move: about 1/N', () => {
    fc.assert(fc.property(fc.integer({ min: 3, max: 24 }), fc.nat(1000), fc.boolean(), (n, seed, join) => {
      const before = peerIds(n, seed)
      const changing = join ? `12D3KooW-newcomer-${seed}` : before[seed % n]!
      const after = join ? [...before, changing] : before.filter((p) => p !== changing)
      let moved = 0
      for (const t of tasks.slice(0, 1500)) {
        const a = rendezvousRank(t, before)[0]!
        const b = rendezvousRank(t, after)[0]!
        if (a !== b) {
          moved++
          // Exactly the changing peer's tasks move, nothing else.
          expect(join ? b : a).toBe(changing)
        }
      }
      const expected = 1500 / (join ? n + 1 : n)
      // Binomial: 5 standard deviations of slack around the expected 1/N share.
      const slack = 5 * Math.sqrt(expected)
      expect(moved).toBeGreaterThan(expected - slack)
      expect(moved).toBeLessThan(expected + slack)
    }), { numRuns: 10 })
  })
})
