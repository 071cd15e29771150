// Runs an in-process adapter (Ollama) under the same state machine as a process: its events
// are counted against the limits, and `terminate`/`kill` abort its signal.
import type { AgentEvent, AgentRunSpec, InProcessAgentAdapter } from './agent.js'
import { createTail } from './output-tail.js'
import type { ProcessRunResult } from './process-runner.js'
import { initialState, transition, type RunInput, type RunState } from './run-machine.js'
import type { RunLimits } from './types.js'

export interface InProcessRunInit {
  adapter: InProcessAgentAdapter
  spec: AgentRunSpec
  limits: RunLimits
  tailChars?: number
  tickMs?: number
  signal?: AbortSignal
  onEvent?: (event: AgentEvent) => void
  onState?: (state: RunState) => void
}

export async function runInProcess (init: InProcessRunInit): Promise<Omit<ProcessRunResult, 'stdoutPath' | 'stderrPath'>> {
  const controller = new AbortController()
  const tail = createTail(init.tailChars ?? 8000)
  let state = initialState(Date.now())
  let settled = false
  const apply = (input: RunInput): void => {
    const before = state.name
    const step = transition(state, input, init.limits)
    state = step.state
    if (step.effects.length > 0) controller.abort(new Error(state.name === 'stopping' ? state.reason : 'stopped'))
    if (state.name !== before) init.onState?.(state)
  }
  const onAbort = (): void => { apply({ type: 'abort', now: Date.now() }) }
  if (init.signal?.aborted === true) onAbort()
  else init.signal?.addEventListener('abort', onAbort, { once: true })
  const timer = setInterval(() => { if (!settled) apply({ type: 'tick', now: Date.now() }) }, init.tickMs ?? 100)
  let code = 0
  try {
    await init.adapter.run(init.spec, {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'message') tail.push(event.text)
        if (event.type === 'error') tail.push(`error: ${event.message}`)
        init.onEvent?.(event)
        apply({ type: 'event', now: Date.now(), event })
      }
    })
  } catch (err) {
    code = 1
    tail.push(`error: ${err instanceof Error ? err.message : String(err)}`)
  } finally {
    settled = true
    clearInterval(timer)
    init.signal?.removeEventListener('abort', onAbort)
  }
  apply({ type: 'exit', now: Date.now(), code, signal: null })
  const s: RunState = state
  return {
    reason: s.name === 'exited' ? s.reason : 'exited',
    exitCode: code,
    exitSignal: null,
    final: s.final,
    usage: s.usage,
    toolCalls: s.toolCalls,
    denied: s.denied,
    tail: tail.text(),
    durationMs: Date.now() - s.startedAt,
    outputBytes: 0
  }
}
