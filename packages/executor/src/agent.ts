// The one interface every agent adapter implements. Two kinds:
// - a CLI adapter builds a command line and parses the CLI's machine-readable output, line by
//   line; the executor's process runner spawns it (stdin /dev/null, output to a file, limits,
//   whole-tree kill, optional sandbox) and feeds it the lines;
// - an in-process adapter (Ollama, through the official client) runs its own bounded loop.

/** What an adapter needs to start one run. */
export interface AgentRunSpec {
  /** The full prompt (already sanitised and fenced by the executor). */
  prompt: string
  /** The workspace: the task branch's working tree. The agent may write only here. */
  cwd: string
  /** Model name, where the agent takes one. */
  model?: string
  /** Budget limits the CLI can enforce itself (its own flags), where it has them. */
  limits?: { maxTurns?: number, maxBudgetUsd?: number, maxTokens?: number }
  /** Endpoint overrides (base URLs of a local or scripted model server). */
  endpoint?: { baseUrl?: string, apiKeyEnv?: string }
}

/** How to start a CLI agent. The executor adds stdin = /dev/null and the allow-listed environment. */
export interface AgentCommand {
  file: string
  args: string[]
  /** Extra environment variables this agent needs (never a GitHub token). */
  env: Record<string, string>
}

/** Typed progress, parsed from the agent's own event stream. */
export type AgentEvent =
  | { type: 'message', text: string }
  | { type: 'tool_call', name: string, input?: unknown }
  | { type: 'tool_result', name?: string, ok: boolean, denied?: boolean }
  | { type: 'file_change', path: string }
  | { type: 'usage', inputTokens?: number, outputTokens?: number, costUsd?: number }
  | { type: 'final', ok: boolean, text?: string, reason?: AgentStopReason }
  | { type: 'error', message: string }

export type AgentStopReason = 'completed' | 'turn_limit' | 'token_limit' | 'budget' | 'denied' | 'error'

export interface CliAgentAdapter {
  readonly kind: 'cli'
  /** `claude`, `codex`, `gemini`, `opencode`, `command`, … */
  readonly name: string
  command: (spec: AgentRunSpec) => AgentCommand
  /** A fresh stateful parser for one run: each call takes one line of output. */
  parser: () => (line: string) => AgentEvent[]
}

export interface InProcessAgentAdapter {
  readonly kind: 'in-process'
  readonly name: string
  run: (spec: AgentRunSpec, options: { signal: AbortSignal, onEvent: (event: AgentEvent) => void }) => Promise<void>
}

export type AgentAdapter = CliAgentAdapter | InProcessAgentAdapter
