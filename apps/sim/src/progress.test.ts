import { PassThrough } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SimEvent } from './events.js'
import type { NodeEvent } from './node.js'
import { createProgressView, emptyProgress, foldProgress, progressLine, summarise } from './progress.js'

const event = fc.oneof(
  fc.record({ t: fc.nat(), kind: fc.constant('task_seen' as const), task: fc.constantFrom('a', 'b', 'c'), peer: fc.constant('p') }),
  fc.record({ t: fc.nat(), kind: fc.constant('claim_won' as const), task: fc.constantFrom('a', 'b', 'c'), peer: fc.constant('p'), attempt: fc.constant(1) }),
  fc.record({ t: fc.nat(), kind: fc.constant('agent_started' as const), task: fc.constantFrom('a', 'b', 'c'), peer: fc.constantFrom('p', 'q') }),
  fc.record({ t: fc.nat(), kind: fc.constant('work_started' as const), task: fc.constantFrom('a', 'b', 'c'), peer: fc.constantFrom('p', 'q') }),
  fc.record({ t: fc.nat(), kind: fc.constant('peer_down' as const), peer: fc.constantFrom('p', 'q'), how: fc.constant('killed' as const) }),
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
      // Running: started by a peer not down since, and not published.
      for (const [task, peer] of s.running) {
        expect(s.ended.has(task)).toBe(false)
        const lastStart = events.findLastIndex((e) => (e.kind === 'work_started' || e.kind === 'agent_started') && e.task === task && e.peer === peer)
        expect(lastStart).toBeGreaterThanOrEqual(0)
        expect(events.slice(lastStart).some((e) => e.kind === 'peer_down' && e.peer === peer)).toBe(false)
      }
    }))
  })

  it('counts a task running from its holder\'s start until it is published, also while the publication waits for the fence', () => {
    const s = emptyProgress()
    const fold = (e: NodeEvent): number => summarise(foldProgress(s, { t: 0, ...e } as SimEvent), 2).running
    expect(fold({ kind: 'claim_won', task: 'a', peer: 'p', attempt: 1 })).toBe(0)
    expect(fold({ kind: 'work_started', task: 'a', peer: 'p' })).toBe(1)
    expect(fold({ kind: 'agent_started', task: 'a', peer: 'p' })).toBe(1)
    expect(fold({ kind: 'agent_finished', task: 'a', peer: 'p', ok: true })).toBe(1) // fenced, publishing
    expect(fold({ kind: 'work_started', task: 'b', peer: 'q' })).toBe(2)
    expect(fold({ kind: 'peer_down', peer: 'q', how: 'killed' })).toBe(1) // its task waits for a new holder
    expect(fold({ kind: 'claim_won', task: 'b', peer: 'p', attempt: 2 })).toBe(1)
    expect(fold({ kind: 'published', task: 'a', peer: 'p', outcome: 'done', url: 'u' })).toBe(0)
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
