import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { periodic } from './periodic.js'

beforeEach(() => { vi.useFakeTimers() })
afterEach(() => { vi.useRealTimers() })

/** The times (ms from now) at which `fn` ran within `untilMs`. */
function runs (init: Parameters<typeof periodic>[0], untilMs: number, stopAtMs?: number): number[] {
  const t0 = Date.now()
  const at: number[] = []
  const stop = periodic(init, () => { at.push(Date.now() - t0) })
  if (stopAtMs !== undefined) setTimeout(stop, stopAtMs)
  vi.advanceTimersByTime(untilMs)
  stop()
  return at
}

describe('periodic', () => {
  it('runs once a period, the first a whole period from now', () => {
    expect(runs({ everyMs: 1000 }, 3500)).toEqual([1000, 2000, 3000])
  })

  it('spread: the first run after a random share of the period, then once a period', () => {
    expect(runs({ everyMs: 1000, spread: true, random: () => 0.25 }, 3500)).toEqual([250, 1250, 2250, 3250])
    expect(runs({ everyMs: 1000, spread: true, random: () => 0 }, 2500)).toEqual([0, 1000, 2000])
    expect(runs({ everyMs: 1000, spread: true, random: () => 0.999 }, 3500)).toEqual([999, 1999, 2999])
  })

  it('peers started together send spread over the period', () => {
    let seed = 7
    const random = (): number => { seed = (seed * 16807) % 2147483647; return (seed - 1) / 2147483646 }
    const firsts = Array.from({ length: 100 }, () => runs({ everyMs: 60_000, spread: true, random }, 60_000)[0]!)
    // No tenth of the period holds more than 20 of them (in step, all 100 would be in one).
    for (let d = 0; d < 10; d++) expect(firsts.filter((t) => Math.floor(t / 6000) === d).length).toBeLessThanOrEqual(20)
    expect(new Set(firsts.map((t) => Math.floor(t / 6000))).size).toBe(10)
  })

  it('stops: before the first run, and between runs', () => {
    expect(runs({ everyMs: 1000, spread: true, random: () => 0.5 }, 5000, 400)).toEqual([])
    expect(runs({ everyMs: 1000, spread: true, random: () => 0.5 }, 5000, 1600)).toEqual([500, 1500])
    expect(runs({ everyMs: 1000 }, 5000, 2500)).toEqual([1000, 2000])
  })
})
