import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson, NotCanonicalError } from './canonical.js'

/** What JSON makes of a value: the form every replica sees after the wire. */
const roundTrip = (v: unknown): unknown => JSON.parse(JSON.stringify(v))

describe('canonicalJson', () => {
  it('rejects holes of sparse arrays instead of dropping them (JSON gives null there)', () => {
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , 3]
    expect(() => canonicalJson(sparse)).toThrow(NotCanonicalError)
    expect(() => canonicalJson({ a: { b: new Array(2) } })).toThrow(/\/a\/b\/0 is a hole/)
    expect(canonicalJson([1, null, 3])).toBe(JSON.stringify([1, null, 3]))
  })

  it('is a fixed point of the JSON round trip for every JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      const c = canonicalJson(v)
      expect(canonicalJson(roundTrip(v))).toBe(c)
      expect(canonicalJson(JSON.parse(c))).toBe(c)
      expect(JSON.parse(c)).toEqual(roundTrip(v))
    }), { numRuns: 300 })
  })

  it('whatever it accepts, including sparse and odd values, survives a JSON round trip unchanged', () => {
    const leaf = fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constant(undefined), fc.double(), fc.constant(-0))
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
      array: fc.oneof(fc.array(tie('node'), { maxLength: 4 }), fc.sparseArray(tie('node'), { maxLength: 6 })),
      object: fc.dictionary(fc.string({ maxLength: 4 }), tie('node'), { maxKeys: 4 })
    })).node
    fc.assert(fc.property(value, (v) => {
      let c: string
      try {
        c = canonicalJson(v)
      } catch (err) {
        expect(err).toBeInstanceOf(NotCanonicalError)
        return
      }
      expect(canonicalJson(roundTrip(v))).toBe(c)
      expect(JSON.parse(c)).toEqual(roundTrip(v))
    }), { numRuns: 500 })
  })
})
