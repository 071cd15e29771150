// The generic `command` adapter: any program, from a command template. Placeholders in each
// argument: `{prompt}`, `{cwd}`, `{model}`. Output is read line by line: with `format: 'jsonl'`
// a line that is a JSON `AgentEvent` is taken as one, anything else is a message.
import type { AgentEvent, AgentRunSpec, CliAgentAdapter } from './agent.js'
import { ExecutorConfigError } from './errors.js'

export interface CommandAdapterInit {
  /** Default `command`. */
  name?: string
  /** `[file, ...args]`, each may hold `{prompt}`, `{cwd}`, `{model}`. */
  command: readonly string[]
  /** Extra environment for the program (never a GitHub token). */
  env?: Record<string, string>
  /** Default `jsonl`. */
  format?: 'jsonl' | 'text'
}

const EVENT_TYPES = new Set(['message', 'tool_call', 'tool_result', 'file_change', 'usage', 'final', 'error'])

function fill (template: string, spec: AgentRunSpec): string {
  return template.replace(/\{(prompt|cwd|model)\}/g, (_, key: string) => key === 'prompt' ? spec.prompt : key === 'cwd' ? spec.cwd : spec.model ?? '')
}

/** One line of a `jsonl` program's output as events. */
export function parseJsonlLine (line: string): AgentEvent[] {
  const trimmed = line.trim()
  if (trimmed === '') return []
  if (trimmed.startsWith('{')) {
    try {
      const value = JSON.parse(trimmed) as { type?: unknown }
      if (typeof value === 'object' && value !== null && typeof value.type === 'string' && EVENT_TYPES.has(value.type)) return [value as AgentEvent]
    } catch {
      // not JSON: a message
    }
  }
  return [{ type: 'message', text: line }]
}

export function createCommandAdapter (init: CommandAdapterInit): CliAgentAdapter {
  const [file, ...args] = init.command
  if (file === undefined || file === '') throw new ExecutorConfigError('a command adapter needs a command')
  const format = init.format ?? 'jsonl'
  return {
    kind: 'cli',
    name: init.name ?? 'command',
    command: (spec) => ({ file: fill(file, spec), args: args.map((a) => fill(a, spec)), env: { ...init.env } }),
    parser: () => format === 'jsonl' ? parseJsonlLine : (line) => line.trim() === '' ? [] : [{ type: 'message', text: line }]
  }
}
