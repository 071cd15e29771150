// The lifecycle of one agent process as an explicit state machine: named states, a pure
// transition function, and effects (signals to send) for the runner to carry out. The runner
// feeds it ticks, output activity, parsed events, an abort and the exit; nothing else decides
// when a process is ended.
import type { AgentEvent, AgentStopReason } from './agent.js'
import type { RunLimits } from './types.js'

/** Why the runner ended the process (`exited`: it ended by itself). */
export type StopReason = 'wall_clock' | 'inactivity' | 'budget' | 'output_limit' | 'exit_grace' | 'cancelled'

export interface Usage { inputTokens: number, outputTokens: number, costUsd: number }
export interface FinalSeen { ok: boolean, reason?: AgentStopReason, text?: string }

interface Common {
  startedAt: number
  lastActivityAt: number
  usage: Usage
  toolCalls: number
  denied: number
  final: FinalSeen | undefined
}

export type RunState =
  /** The process runs and has not said it is done. */
  | Common & { name: 'running' }
  /** It sent its final event; it has `exitGraceMs` to exit. */
  | Common & { name: 'finishing', finalAt: number }
  /** SIGTERM sent for `reason`; SIGKILL follows after `killGraceMs`. */
  | Common & { name: 'stopping', reason: StopReason, since: number, killed: boolean }
  /** The process (and, with a PID namespace, its whole tree) is gone. */
  | Common & { name: 'exited', reason: StopReason | 'exited', exitCode: number | null, exitSignal: string | null }

export type RunInput =
  | { type: 'tick', now: number }
  | { type: 'activity', now: number }
  | { type: 'event', now: number, event: AgentEvent }
  | { type: 'abort', now: number }
  | { type: 'output_limit', now: number }
  | { type: 'exit', now: number, code: number | null, signal: string | null }

/** `terminate`: SIGTERM to the tree; `kill`: SIGKILL to the tree. */
export type RunEffect = 'terminate' | 'kill'

export interface Step { state: RunState, effects: RunEffect[] }

export function initialState (now: number): RunState {
  return { name: 'running', startedAt: now, lastActivityAt: now, usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 }, toolCalls: 0, denied: 0, final: undefined }
}

function common (s: RunState): Common {
  return { startedAt: s.startedAt, lastActivityAt: s.lastActivityAt, usage: s.usage, toolCalls: s.toolCalls, denied: s.denied, final: s.final }
}

function stop (s: RunState, reason: StopReason, now: number): Step {
  return { state: { ...common(s), name: 'stopping', reason, since: now, killed: false }, effects: ['terminate'] }
}

function overBudget (usage: Usage, limits: RunLimits): boolean {
  return (limits.maxTokens !== undefined && usage.inputTokens + usage.outputTokens > limits.maxTokens) ||
    (limits.maxCostUsd !== undefined && usage.costUsd > limits.maxCostUsd)
}

/** Folds an event into the counters (pure). */
function count (s: RunState, event: AgentEvent, now: number): RunState {
  const next = { ...s, lastActivityAt: now }
  switch (event.type) {
    case 'usage':
      next.usage = {
        inputTokens: s.usage.inputTokens + (event.inputTokens ?? 0),
        outputTokens: s.usage.outputTokens + (event.outputTokens ?? 0),
        costUsd: s.usage.costUsd + (event.costUsd ?? 0)
      }
      break
    case 'tool_call':
      next.toolCalls = s.toolCalls + 1
      break
    case 'tool_result':
      if (event.denied === true) next.denied = s.denied + 1
      break
    case 'final':
      next.final = { ok: event.ok, ...(event.reason !== undefined ? { reason: event.reason } : {}), ...(event.text !== undefined ? { text: event.text } : {}) }
      break
    default:
      break
  }
  return next
}

/** The transition function. Pure: the same state and input give the same step. */
export function transition (s: RunState, input: RunInput, limits: RunLimits): Step {
  if (s.name === 'exited') return { state: s, effects: [] }
  if (input.type === 'exit') {
    return { state: { ...common(s), name: 'exited', reason: s.name === 'stopping' ? s.reason : 'exited', exitCode: input.code, exitSignal: input.signal }, effects: [] }
  }
  if (s.name === 'stopping') {
    // Counters still move (a usage line may come late); only the kill is pending.
    const counted = input.type === 'event' ? { ...count(s, input.event, input.now), name: 'stopping' as const, reason: s.reason, since: s.since, killed: s.killed } : s
    if (!counted.killed && input.now - s.since >= limits.killGraceMs) return { state: { ...counted, killed: true }, effects: ['kill'] }
    return { state: counted, effects: [] }
  }
  switch (input.type) {
    case 'abort':
      return stop(s, 'cancelled', input.now)
    case 'output_limit':
      return stop(s, 'output_limit', input.now)
    case 'activity':
      return { state: { ...s, lastActivityAt: Math.max(s.lastActivityAt, input.now) }, effects: [] }
    case 'event': {
      const counted = count(s, input.event, input.now)
      if (overBudget(counted.usage, limits)) return stop(counted, 'budget', input.now)
      if (input.event.type === 'final' && s.name === 'running') return { state: { ...counted, name: 'finishing', finalAt: input.now }, effects: [] }
      return { state: counted, effects: [] }
    }
    case 'tick':
      if (input.now - s.startedAt >= limits.wallClockMs) return stop(s, 'wall_clock', input.now)
      if (s.name === 'finishing') {
        return input.now - s.finalAt >= limits.exitGraceMs ? stop(s, 'exit_grace', input.now) : { state: s, effects: [] }
      }
      if (input.now - s.lastActivityAt >= limits.inactivityMs) return stop(s, 'inactivity', input.now)
      return { state: s, effects: [] }
  }
}
