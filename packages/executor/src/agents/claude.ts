// Claude Code (`@anthropic-ai/claude-code`, checked with 2.1.332): one-shot `-p` with the
// `stream-json` event stream (`--verbose` is required with it in print mode).
import type { AgentEvent } from '../agent.js'
import { cliAdapter, type CliAdapterConfig } from './cli-adapter.js'
import { arr, num, parseJsonLine, rec, str } from './json-line.js'
import type { CommandTemplate } from './template.js'

export const CLAUDE_TEMPLATE: CommandTemplate = {
  file: 'claude',
  args: [
    '-p',
    '--output-format', 'stream-json',
    '--verbose',
    // No one answers permission prompts in a run: the sandbox and the executor are the boundary.
    '--permission-mode', 'bypassPermissions',
    '--no-session-persistence',
    ['--model', '{model}'],
    ['--max-turns', '{maxTurns}'],
    ['--max-budget-usd', '{maxBudgetUsd}'],
    '--',
    '{prompt}'
  ],
  env: {
    // bypassPermissions refuses to run as root outside a sandbox unless told it is in one.
    IS_SANDBOX: '1',
    ANTHROPIC_BASE_URL: '{baseUrl}'
  }
}

const EDIT_TOOLS = new Set(['Write', 'Edit', 'MultiEdit', 'NotebookEdit'])

export function claudeParser (): (line: string) => AgentEvent[] {
  const calls = new Map<string, { name: string, input: Record<string, unknown> }>()
  const denied = new Set<string>()
  let succeeded = 0
  return (line) => {
    const event = parseJsonLine(line)
    if (event == null) return []
    const out: AgentEvent[] = []
    const type = str(event.type)
    if (type === 'system' && event.subtype === 'permission_denied') {
      const id = str(event.tool_use_id)
      if (id != null) denied.add(id)
    } else if (type === 'assistant') {
      for (const block of arr(rec(event.message).content)) {
        const b = rec(block)
        if (b.type === 'text' && typeof b.text === 'string' && b.text !== '') out.push({ type: 'message', text: b.text })
        if (b.type === 'tool_use' && typeof b.name === 'string') {
          const input = rec(b.input)
          if (typeof b.id === 'string') calls.set(b.id, { name: b.name, input })
          out.push({ type: 'tool_call', name: b.name, input })
        }
      }
    } else if (type === 'user') {
      for (const block of arr(rec(event.message).content)) {
        const b = rec(block)
        if (b.type !== 'tool_result') continue
        const id = str(b.tool_use_id) ?? ''
        const call = calls.get(id)
        const isDenied = denied.has(id) || arr(event.tool_result_meta).some((m) => {
          const meta = rec(m)
          return meta.id === id && (meta.non_execution_kind === 'user-rejected' || rec(meta.permission_decision).decision === 'reject')
        })
        const ok = b.is_error !== true
        out.push({ type: 'tool_result', ...(call != null ? { name: call.name } : {}), ok, ...(isDenied ? { denied: true } : {}) })
        if (ok) {
          succeeded++
          const path = str(call?.input.file_path) ?? str(call?.input.notebook_path)
          if (call != null && EDIT_TOOLS.has(call.name) && path != null) out.push({ type: 'file_change', path })
        }
      }
    } else if (type === 'result') {
      const usage = rec(event.usage)
      const inputTokens = num(usage.input_tokens)
      const outputTokens = num(usage.output_tokens)
      const costUsd = num(event.total_cost_usd)
      out.push({
        type: 'usage',
        ...(inputTokens != null ? { inputTokens } : {}),
        ...(outputTokens != null ? { outputTokens } : {}),
        ...(costUsd != null ? { costUsd } : {})
      })
      const subtype = str(event.subtype) ?? ''
      const denials = arr(event.permission_denials).length
      const text = str(event.result) ?? arr(event.errors).filter((e) => typeof e === 'string').join('; ')
      if (subtype === 'error_max_turns') out.push({ type: 'final', ok: false, reason: 'turn_limit', text })
      else if (subtype === 'error_max_budget_usd') out.push({ type: 'final', ok: false, reason: 'budget', text })
      else if (subtype !== 'success' || event.is_error === true) out.push({ type: 'final', ok: false, reason: 'error', text })
      else if (denials > 0 && succeeded === 0) out.push({ type: 'final', ok: false, reason: 'denied', text })
      else out.push({ type: 'final', ok: true, reason: 'completed', text })
    }
    return out
  }
}

export function claudeAdapter (config: CliAdapterConfig = {}) {
  return cliAdapter('claude', CLAUDE_TEMPLATE, claudeParser, config)
}
