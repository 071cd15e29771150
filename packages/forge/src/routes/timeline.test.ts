import { describe, expect, it } from 'vitest'
import { mentions } from './timeline.js'

describe('mentions', () => {
  it('finds #N as GitHub links it, not a longer number or a reference elsewhere', () => {
    expect(mentions('Closes #12', 12)).toBe(true)
    expect(mentions('#12 and more', 12)).toBe(true)
    expect(mentions('see (#12).', 12)).toBe(true)
    expect(mentions('Closes #123', 12)).toBe(false)
    expect(mentions('Closes #1', 12)).toBe(false)
    expect(mentions('other/repo#12', 12)).toBe(false)
    expect(mentions('a#12', 12)).toBe(false)
    expect(mentions('##12', 12)).toBe(false)
    expect(mentions(null, 12)).toBe(false)
  })
})
