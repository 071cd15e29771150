import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BackoffTable, backoffDelay, planDials, type BackoffOptions } from './backoff.js'

const options = fc.record({
  initialDelayMs: fc.integer({ min: 1, max: 10_000 }),
  maxDelayMs: fc.integer({ min: 1, max: 600_000 }),
  factor: fc.double({ min: 1, max: 10, noNaN: true }),
  jitter: fc.double({ min: 0, max: 0.99, noNaN: true })
}) as fc.Arbitrary<BackoffOptions>
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })

describe('backoffDelay', () => {
  it('stays within [(1 - jitter) * min(max, initial * factor^n), min(max, ...)]', () => {
    fc.assert(fc.property(options, fc.integer({ min: 0, max: 2000 }), unit, (o, attempt, r) => {
      const d = backoffDelay(attempt, o, () => r)
      const ceiling = Math.min(o.maxDelayMs, o.initialDelayMs * Math.pow(o.factor, attempt))
      expect(d).toBeGreaterThanOrEqual(Math.floor((1 - o.jitter) * ceiling) - 1)
      expect(d).toBeLessThanOrEqual(Math.ceil(ceiling))
      expect(d).toBeLessThanOrEqual(o.maxDelayMs)
    }))
  })

  it('never shrinks as attempts grow (without jitter)', () => {
    fc.assert(fc.property(options, fc.integer({ min: 0, max: 100 }), (o, attempt) => {
      const noJitter = { ...o, jitter: 0 }
      expect(backoffDelay(attempt + 1, noJitter)).toBeGreaterThanOrEqual(backoffDelay(attempt, noJitter))
    }))
  })
})

describe('BackoffTable', () => {
  it('makes a failed peer wait, longer each time, and forgets after a success', () => {
    const table = new BackoffTable({ initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0 })
    expect(table.isDue('p', 0)).toBe(true)
    expect(table.failed('p', 0)).toBe(100)
    expect(table.isDue('p', 99)).toBe(false)
    expect(table.isDue('p', 100)).toBe(true)
    expect(table.failed('p', 100)).toBe(200)
    expect(table.failed('p', 300)).toBe(400)
    expect(table.failed('p', 700)).toBe(800)
    expect(table.failed('p', 1500)).toBe(1000)
    expect(table.attempts('p')).toBe(5)
    table.succeeded('p')
    expect(table.isDue('p', 0)).toBe(true)
    expect(table.failed('p', 0)).toBe(100)
  })
})

describe('planDials', () => {
  const ids = fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}$/), { maxLength: 40 })
  it('dials only due, unconnected, undialled peers other than self, each once, bootstrap first, up to the target', () => {
    fc.assert(fc.property(ids, ids, ids, ids, fc.integer({ min: 0, max: 20 }), fc.func(fc.boolean()), unit, (connectedL, diallingL, bootstrap, known, target, due, r) => {
      const connected = new Set(connectedL)
      const dialling = new Set(diallingL)
      const plan = planDials({ connected, dialling, bootstrap, known, target, isDue: due, self: 'self', random: () => r })
      expect(new Set(plan).size).toBe(plan.length)
      for (const p of plan) {
        expect(connected.has(p) || dialling.has(p) || p === 'self' || !due(p)).toBe(false)
        expect(bootstrap.includes(p) || known.includes(p)).toBe(true)
      }
      const wantedBootstrap = bootstrap.filter((p) => !connected.has(p) && !dialling.has(p) && p !== 'self' && due(p))
      expect(plan.slice(0, wantedBootstrap.length)).toEqual(wantedBootstrap)
      const others = plan.length - wantedBootstrap.length
      const room = Math.max(0, target - connected.size - dialling.size - wantedBootstrap.length)
      const available = new Set(known.filter((p) => !connected.has(p) && !dialling.has(p) && p !== 'self' && due(p) && !wantedBootstrap.includes(p))).size
      expect(others).toBe(Math.min(room, available))
    }))
  })
})
