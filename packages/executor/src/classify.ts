// What a finished agent run amounts to. Pure: from the runner's result, whether the tree
// changed, and the agent's outcome file.
import type { AgentStopReason } from './agent.js'
import type { OutcomeFile } from './outcome-file.js'
import type { StopReason, FinalSeen } from './run-machine.js'
import type { FailureReason } from './types.js'

export interface ClassifyInput {
  reason: StopReason | 'exited'
  exitCode: number | null
  final: FinalSeen | undefined
  toolCalls: number
  denied: number
  /** The final tree differs from upstream's. */
  changed: boolean
  file: OutcomeFile | undefined
}

export type Verdict =
  | { type: 'cancelled' }
  | { type: 'help', capabilities: string[], reason: string }
  | { type: 'failure', reason: FailureReason }
  | { type: 'pull_request' }
  | { type: 'issues' }

const FROM_AGENT: Partial<Record<AgentStopReason, FailureReason>> = {
  turn_limit: 'turn_limit',
  token_limit: 'token_limit',
  budget: 'budget',
  denied: 'denied'
}

export function classify (r: ClassifyInput): Verdict {
  if (r.reason === 'cancelled') return { type: 'cancelled' }
  // Asking for help is not failing, whatever else happened.
  if (r.file?.help !== undefined) return { type: 'help', capabilities: r.file.help.capabilities, reason: r.file.help.reason }
  if (r.reason !== 'exited' && r.reason !== 'exit_grace') return { type: 'failure', reason: r.reason }
  if (r.final?.ok === false) return { type: 'failure', reason: (r.final.reason !== undefined ? FROM_AGENT[r.final.reason] : undefined) ?? 'agent_failed' }
  // Ended after its final event (exit_grace) counts as having finished; otherwise the exit code decides.
  if (r.reason === 'exited' && r.exitCode !== 0) return { type: 'failure', reason: 'agent_failed' }
  // Exit code 0 with every tool call denied is a failure, not a success.
  if (r.toolCalls > 0 && r.denied >= r.toolCalls) return { type: 'failure', reason: 'denied' }
  if (r.changed) return { type: 'pull_request' }
  if ((r.file?.follow_ups?.length ?? 0) > 0) return { type: 'issues' }
  return { type: 'failure', reason: 'no_change' }
}
