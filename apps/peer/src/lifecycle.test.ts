import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  INITIAL_LIFECYCLE, LifecycleTransitionError, canClaim, lifecycleStep,
  type LifecycleAction, type LifecycleEvent, type LifecycleState
} from './lifecycle.js'

// The model: what the drain promises, stated without the transition table.
interface Model {
  started: boolean
  /** The start failed: what had started is stopped. */
  failed: boolean
  running: boolean
  draining: boolean
  done: boolean
  work: number
  aborted: boolean
  stopIssued: number
}

interface Real { state: LifecycleState, actions: LifecycleAction[] }

function apply (real: Real, event: LifecycleEvent): LifecycleAction[] {
  const out = lifecycleStep(real.state, event)
  real.state = out.state
  real.actions.push(...out.actions)
  return out.actions
}

class Cmd implements fc.Command<Model, Real> {
  constructor (readonly event: LifecycleEvent) {}
  check (m: Readonly<Model>): boolean {
    switch (this.event.type) {
      case 'start': return !m.started
      case 'started': return m.started && !m.running && !m.failed && !m.done
      case 'failed': return m.started && !m.running && !m.failed && !m.done
      case 'work-started': return m.running && !m.done && (!m.draining || m.work > 0)
      case 'work-ended': return m.work > 0
      case 'drain': return m.running
      case 'deadline': return true
      case 'stopped': return m.stopIssued === 1 && !m.done
      default: return false
    }
  }

  run (m: Model, r: Real): void {
    const before = r.state
    let actions: LifecycleAction[]
    if (this.event.type === 'deadline' && !(m.draining && m.work > 0)) {
      actions = apply(r, this.event)
      expect(actions).toEqual([])
      expect(r.state).toEqual(before)
      return
    }
    actions = apply(r, this.event)
    switch (this.event.type) {
      case 'start': m.started = true; break
      case 'started': m.running = true; break
      case 'failed': m.failed = true; break
      case 'work-started': m.work++; break
      case 'work-ended': m.work--; break
      case 'drain':
        if (m.draining) expect(actions).toEqual([])
        else expect(actions).toContain('announce-draining')
        m.draining = true
        break
      case 'deadline':
        expect(actions).toEqual(m.aborted ? [] : ['abort-work'])
        m.aborted = true
        break
      case 'stopped': m.done = true; break
    }
    m.stopIssued += actions.filter((a) => a === 'stop-components').length
    // Invariants: a drained node makes no claim; components stop exactly when the last work ended.
    expect(canClaim(r.state)).toBe(m.running && !m.draining)
    expect(r.state.active).toBe(m.work)
    expect(m.stopIssued).toBe((m.draining && m.work === 0) || m.failed ? 1 : 0)
    expect(r.state.phase).toBe(m.done ? 'stopped' : m.failed ? 'stopping' : m.draining ? (m.work === 0 ? 'stopping' : 'draining') : m.running ? 'running' : 'starting')
    // Work started while aborting is aborted at once.
    if (this.event.type === 'work-started' && m.aborted) expect(actions).toContain('abort-work')
  }

  toString (): string { return this.event.type }
}

const commands = [
  fc.constant(new Cmd({ type: 'start' })),
  fc.constant(new Cmd({ type: 'started' })),
  fc.constant(new Cmd({ type: 'failed' })),
  fc.constant(new Cmd({ type: 'work-started' })),
  fc.constant(new Cmd({ type: 'work-ended' })),
  fc.constant(new Cmd({ type: 'drain' })),
  fc.constant(new Cmd({ type: 'deadline' })),
  fc.constant(new Cmd({ type: 'stopped' }))
]

describe('lifecycle', () => {
  it('drains as the model says: no claim once draining, stop exactly once when the last work ends', () => {
    fc.assert(fc.property(fc.commands(commands, { maxCommands: 40 }), (cmds) => {
      const model: Model = { started: false, failed: false, running: false, draining: false, done: false, work: 0, aborted: false, stopIssued: 0 }
      fc.modelRun(() => ({ model, real: { state: INITIAL_LIFECYCLE, actions: [] } }), cmds)
    }), { numRuns: 300 })
  })

  it('refuses events a phase does not take', () => {
    expect(() => lifecycleStep(INITIAL_LIFECYCLE, { type: 'started' })).toThrow(LifecycleTransitionError)
    expect(() => lifecycleStep(INITIAL_LIFECYCLE, { type: 'work-ended' })).toThrow(LifecycleTransitionError)
    const running = lifecycleStep(lifecycleStep(INITIAL_LIFECYCLE, { type: 'start' }).state, { type: 'started' }).state
    expect(() => lifecycleStep(running, { type: 'stopped' })).toThrow(LifecycleTransitionError)
  })

  it('a drain with work waits for it; the deadline aborts it', () => {
    let s = lifecycleStep(lifecycleStep(INITIAL_LIFECYCLE, { type: 'start' }).state, { type: 'started' }).state
    s = lifecycleStep(s, { type: 'work-started' }).state
    const drained = lifecycleStep(s, { type: 'drain' })
    expect(drained.state.phase).toBe('draining')
    expect(drained.actions).toEqual(['announce-draining'])
    const late = lifecycleStep(drained.state, { type: 'deadline' })
    expect(late.actions).toEqual(['abort-work'])
    const ended = lifecycleStep(late.state, { type: 'work-ended' })
    expect(ended.state.phase).toBe('stopping')
    expect(ended.actions).toEqual(['stop-components'])
  })

  it('a failed start stops what had started, then ends stopped (the start error is not masked)', () => {
    const failed = lifecycleStep(lifecycleStep(INITIAL_LIFECYCLE, { type: 'start' }).state, { type: 'failed' })
    expect(failed.state.phase).toBe('stopping')
    expect(failed.actions).toEqual(['stop-components'])
    expect(lifecycleStep(failed.state, { type: 'stopped' }).state.phase).toBe('stopped')
  })
})
