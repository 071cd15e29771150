import { PassThrough } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SimEvent } from './events.js'
import { createProgressView, emptyProgress, foldProgress, progressLine, summarise } from './progress.js'

const event = fc.oneof(
  fc.record({ t: fc.nat(), kind: fc.constant('task_seen' as const), task: fc.constantFrom('a', 'b', 'c'), peer: fc.constant('p') }),
  fc.record({ t: fc.nat(), kind: fc.constant('claim_won' as const), task: fc.constantFrom('a', 'b', 'c'), peer: fc.constant('p'), attempt: fc.constant(1) }),
  fc.record({ t: fc.nat(), kind: fc.constant('agent_started' as const), task: fc.constantFrom('a', 'b', 'c'), peer: fc.constant('p') }),
  fc.record({ t: fc.nat(), kind: fc.constant('agent_finished' as const), task: fc.constantFrom('a', 'b', 'c'), peer: fc.constant('p'), ok: fc.boolean() }),
  fc.record({ t: fc.nat(), kind: fc.constant('published' as const), task: fc.constantFrom('a', 'b', 'c'), peer: fc.constant('p'), outcome: fc.constantFrom('done' as const, 'failed' as const), url: fc.constant('u') }),
  fc.record({ t: fc.nat(), kind: fc.constantFrom('peer_up' as const), peer: fc.constantFrom('p', 'q') })
) as fc.Arbitrary<SimEvent>

describe('progress', () => {
  it('never counts more than the tasks there are, nor a task both done and failed', () => {
    fc.assert(fc.property(fc.array(event, { maxLength: 60 }), (events) => {
      const s = emptyProgress()
      for (const e of events) foldProgress(s, e)
      const p = summarise(s, 3)
      for (const n of [p.announced, p.claimed, p.running, p.done + p.failed]) expect(n).toBeLessThanOrEqual(3)
      expect(p.running).toBeGreaterThanOrEqual(0)
      // A task once done stays done, whatever a later publication says.
      const doneOnce = new Set(events.filter((e) => e.kind === 'published' && e.outcome === 'done').map((e) => (e as { task: string }).task))
      expect(p.done).toBe(doneOnce.size)
    }))
  })

  it('prints plain lines, no more often than asked, when not on a terminal', () => {
    const out = new PassThrough()
    let text = ''
    out.on('data', (d: Buffer) => { text += d.toString() })
    const view = createProgressView({ out, everyMs: 1000 })
    const p = summarise(emptyProgress(), 4)
    view.update(p, 0)
    view.update({ ...p, done: 1 }, 500) // too soon
    view.update({ ...p, done: 2 }, 1500)
    view.update({ ...p, done: 2 }, 3000) // unchanged
    view.note('peer-1 killed', 3100)
    view.end()
    const lines = text.trim().split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[1]).toContain('2 done')
    expect(text).not.toContain('\r')
    expect(lines[2]).toContain('peer-1 killed')
  })

  it('draws a bar proportional to the tasks ended', () => {
    const p = { peersUp: 5, peersDown: 1, announced: 4, claimed: 4, running: 1, done: 2, failed: 0, total: 4, faults: 1 }
    expect(progressLine(p, 1200, 10)).toContain('[#####.....]  50%')
    expect(progressLine(p, 1200, 10)).toContain('peers 5 (+1 down)')
  })
})
