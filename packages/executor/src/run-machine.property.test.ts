import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { AgentEvent } from './agent.js'
import { initialState, transition, type RunInput, type RunState } from './run-machine.js'
import type { RunLimits } from './types.js'

const limits: RunLimits = { wallClockMs: 1000, inactivityMs: 300, exitGraceMs: 200, killGraceMs: 100, maxTokens: 5000 }

const eventArb: fc.Arbitrary<AgentEvent> = fc.oneof(
  fc.constant<AgentEvent>({ type: 'message', text: 'm' }),
  fc.constant<AgentEvent>({ type: 'tool_call', name: 'edit' }),
  fc.boolean().map((denied): AgentEvent => ({ type: 'tool_result', ok: !denied, denied })),
  fc.nat(3000).map((n): AgentEvent => ({ type: 'usage', inputTokens: n, outputTokens: 0 })),
  fc.boolean().map((ok): AgentEvent => ({ type: 'final', ok }))
)

/** Inputs with non-decreasing times. */
const inputsArb = fc.array(fc.tuple(fc.nat(150), fc.oneof(
  { weight: 4, arbitrary: fc.constant('tick' as const) },
  { weight: 2, arbitrary: fc.constant('activity' as const) },
  { weight: 4, arbitrary: eventArb },
  { weight: 1, arbitrary: fc.constant('abort' as const) },
  { weight: 1, arbitrary: fc.constant('output_limit' as const) },
  { weight: 1, arbitrary: fc.constant('exit' as const) }
)), { maxLength: 60 }).map((steps) => {
  let now = 0
  return steps.map(([dt, kind]): RunInput => {
    now += dt
    if (kind === 'tick' || kind === 'activity' || kind === 'abort' || kind === 'output_limit') return { type: kind, now }
    if (kind === 'exit') return { type: 'exit', now, code: 0, signal: null }
    return { type: 'event', now, event: kind }
  })
})

describe('the run state machine', () => {
  it('keeps its invariants under any input order', () => {
    fc.assert(fc.property(inputsArb, (inputs) => {
      let s: RunState = initialState(0)
      let kills = 0
      let terms = 0
      let stopReason: string | undefined
      let tokens = 0
      for (const input of inputs) {
        const before = s
        const step = transition(s, input, limits)
        s = step.state
        // Exited is final.
        if (before.name === 'exited') expect(s).toBe(before)
        // SIGTERM exactly when a stop begins; SIGKILL only while stopping, once.
        if (step.effects.includes('terminate')) { terms++; expect(s.name).toBe('stopping'); expect(before.name === 'running' || before.name === 'finishing').toBe(true) }
        if (step.effects.includes('kill')) { kills++; expect(before.name).toBe('stopping') }
        if (s.name === 'stopping') {
          stopReason ??= s.reason
          expect(s.reason).toBe(stopReason)
          expect(terms).toBe(1)
        }
        // An exit after a stop keeps the stop's reason.
        if (s.name === 'exited' && before.name === 'stopping') expect(s.reason).toBe(before.reason)
        // Usage never goes down.
        const t = s.usage.inputTokens + s.usage.outputTokens
        expect(t).toBeGreaterThanOrEqual(tokens)
        tokens = t
        // Nobody runs past the wall clock: a tick after it stops the run.
        if (input.type === 'tick' && input.now >= limits.wallClockMs) expect(s.name === 'stopping' || s.name === 'exited').toBe(true)
      }
      expect(kills).toBeLessThanOrEqual(1)
      expect(terms).toBeLessThanOrEqual(1)
    }), { numRuns: 500 })
  })

  it('is pure: the same inputs give the same states', () => {
    fc.assert(fc.property(inputsArb, (inputs) => {
      const fold = (): RunState => inputs.reduce((s, i) => transition(s, i, limits).state, initialState(0))
      expect(fold()).toEqual(fold())
    }), { numRuns: 100 })
  })
})
