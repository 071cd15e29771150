import { describe, expect, it } from 'vitest'
import { createClaimPostings } from './hand-off.js'

describe('claim postings', () => {
  it('a wait ends when the claim is posted, not before', async () => {
    const p = createClaimPostings()
    const posted = p.begin('o/r#1')
    expect(p.pending('o/r#1')).toBe(true)
    let over = false
    const waiting = p.wait('o/r#1', 10_000).then(() => { over = true })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(over).toBe(false)
    posted()
    await waiting
    expect(over).toBe(true)
    expect(p.pending('o/r#1')).toBe(false)
  })

  it('a wait ends after its bound when the claim never posts, and at once when none is pending', async () => {
    const p = createClaimPostings()
    p.begin('o/r#2')
    const t0 = Date.now()
    await p.wait('o/r#2', 60)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55)
    expect(p.pending('o/r#2')).toBe(true)
    const t1 = Date.now()
    await p.wait('o/r#3', 10_000)
    await p.wait('o/r#2', 0)
    expect(Date.now() - t1).toBeLessThan(50)
  })

  it('a late settle of an earlier claim leaves a newer claim of the same key pending', async () => {
    const p = createClaimPostings()
    const first = p.begin('o/r#4')
    first()
    const second = p.begin('o/r#4')
    first()
    expect(p.pending('o/r#4')).toBe(true)
    second()
    second()
    expect(p.pending('o/r#4')).toBe(false)
  })
})
