import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatTimestamp, parseTimestamp } from './timestamp.js'

describe('parseTimestamp', () => {
  it('agrees with Date.parse on every valid RFC 3339 time', () => {
    const offset = fc.oneof(
      fc.constantFrom('Z', 'z'),
      fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([s, h, m]) => `${s}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`)
    )
    const fraction = fc.option(fc.stringMatching(/^\.[0-9]{1,9}$/), { nil: '' })
    fc.assert(fc.property(
      fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
      fraction,
      offset,
      (date, frac, off) => {
        const text = date.toISOString().slice(0, 19) + (frac ?? '') + off
        expect(parseTimestamp(text)).toBe(Date.parse(text))
      }
    ), { numRuns: 10_000 })
  })

  it('round-trips formatTimestamp', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 253_402_300_799_000 }), (ms) => {
      expect(parseTimestamp(formatTimestamp(ms))).toBe(ms)
    }), { numRuns: 10_000 })
  })

  it('counts a leap second as the next second and refuses impossible dates', () => {
    expect(parseTimestamp('2016-12-31T23:59:60Z')).toBe(Date.parse('2017-01-01T00:00:00Z'))
    for (const bad of ['2025-02-29T00:00:00Z', '2025-13-01T00:00:00Z', '2025-01-01T24:00:00Z', '2025-01-01T00:00:00+24:00', '2025-01-01T00:00:00']) {
      expect(parseTimestamp(bad)).toBeUndefined()
    }
    for (const f of ['.57', '.29', '.58', '.999999999', '.1']) expect(parseTimestamp(`2025-07-12T01:23:45${f}Z`)).toBe(Date.parse(`2025-07-12T01:23:45${f}Z`))
    expect(parseTimestamp('2024-02-29T12:00:00.5+01:30')).toBe(Date.parse('2024-02-29T10:30:00.500Z'))
  })
})
