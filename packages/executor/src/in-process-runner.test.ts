import { describe, expect, it } from 'vitest'
import type { InProcessAgentAdapter } from './agent.js'
import { DEFAULT_LIMITS } from './executor.js'
import { runInProcess } from './in-process-runner.js'

/** An in-process agent that reports usage every 20 ms until its signal aborts (or `stopAfter` reports). */
function looping (stopAfter = Infinity): InProcessAgentAdapter & { aborted: () => boolean } {
  let aborted = false
  return {
    kind: 'in-process',
    name: 'loop',
    aborted: () => aborted,
    run: async (_spec, { signal, onEvent }) => {
      for (let i = 0; i < stopAfter; i++) {
        if (signal.aborted) { aborted = true; throw signal.reason }
        onEvent({ type: 'usage', inputTokens: 100, outputTokens: 10 })
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      onEvent({ type: 'final', ok: true, text: 'done' })
    }
  }
}

const spec = { prompt: 'p', cwd: '/tmp' }

describe('the in-process runner', () => {
  it('ends an in-process agent at the wall clock through its signal', async () => {
    const agent = looping()
    const r = await runInProcess({ adapter: agent, spec, limits: { ...DEFAULT_LIMITS, wallClockMs: 300 }, tickMs: 20 })
    expect(r.reason).toBe('wall_clock')
    expect(agent.aborted()).toBe(true)
  })

  it('ends it over budget, and lets a finished one finish', async () => {
    const spender = looping()
    expect((await runInProcess({ adapter: spender, spec, limits: { ...DEFAULT_LIMITS, maxTokens: 1000 }, tickMs: 20 })).reason).toBe('budget')
    const r = await runInProcess({ adapter: looping(3), spec, limits: DEFAULT_LIMITS, tickMs: 20 })
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0, final: { ok: true, text: 'done' }, usage: { inputTokens: 300, outputTokens: 30 } })
  })

  it('is cancelled by its signal', async () => {
    const agent = looping()
    const r = await runInProcess({ adapter: agent, spec, limits: DEFAULT_LIMITS, tickMs: 20, signal: AbortSignal.timeout(150) })
    expect(r.reason).toBe('cancelled')
    expect(agent.aborted()).toBe(true)
  })
})
