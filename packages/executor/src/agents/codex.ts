// Codex (`@openai/codex`, checked with 0.171.0): `codex exec --json`, JSON lines of thread / turn /
// item events. stdin must be /dev/null (else it waits on "Reading additional input from stdin").
// With a base URL, a custom provider speaking the Responses API is configured on the command
// line (its built-in provider would try a WebSocket first).
import type { AgentEvent } from '../agent.js'
import { cliAdapter, type CliAdapterConfig } from './cli-adapter.js'
import { arr, num, parseJsonLine, reasonFromText, rec, str } from './json-line.js'
import type { CommandTemplate } from './template.js'

export const CODEX_TEMPLATE: CommandTemplate = {
  file: 'codex',
  args: [
    'exec',
    '--json',
    '--cd', '{cwd}',
    // The executor's sandbox is the boundary; codex's own needs namespaces it may not get.
    '--dangerously-bypass-approvals-and-sandbox',
    '--skip-git-repo-check',
    '--ephemeral',
    ['--model', '{model}'],
    ['-c', 'model_provider=bzzz', '-c', 'model_providers.bzzz.name=bzzz', '-c', 'model_providers.bzzz.base_url={baseUrl}/v1', '-c', 'model_providers.bzzz.wire_api=responses'],
    ['-c', 'model_providers.bzzz.env_key={apiKeyEnv}'],
    '--',
    '{prompt}'
  ]
}

export function codexParser (): (line: string) => AgentEvent[] {
  let lastMessage: string | undefined
  return (line) => {
    const event = parseJsonLine(line)
    if (event == null) return []
    const type = str(event.type)
    const item = rec(event.item)
    const itemType = str(item.type)
    const out: AgentEvent[] = []
    if (type === 'item.started') {
      if (itemType === 'command_execution') out.push({ type: 'tool_call', name: 'shell', input: { command: item.command } })
      else if (itemType === 'mcp_tool_call') out.push({ type: 'tool_call', name: `${str(item.server) ?? 'mcp'}.${str(item.tool) ?? '?'}`, input: item.arguments })
      else if (itemType === 'web_search') out.push({ type: 'tool_call', name: 'web_search', input: { query: item.query } })
    } else if (type === 'item.completed') {
      if (itemType === 'agent_message' && typeof item.text === 'string') {
        lastMessage = item.text
        out.push({ type: 'message', text: item.text })
      } else if (itemType === 'command_execution') {
        const status = str(item.status)
        const denied = status === 'declined'
        out.push({ type: 'tool_result', name: 'shell', ok: status === 'completed' && num(item.exit_code) === 0, ...(denied ? { denied } : {}) })
      } else if (itemType === 'mcp_tool_call') {
        out.push({ type: 'tool_result', name: `${str(item.server) ?? 'mcp'}.${str(item.tool) ?? '?'}`, ok: str(item.status) === 'completed' })
      } else if (itemType === 'file_change') {
        const ok = str(item.status) === 'completed'
        out.push({ type: 'tool_call', name: 'apply_patch', input: { changes: item.changes } })
        out.push({ type: 'tool_result', name: 'apply_patch', ok })
        if (ok) for (const change of arr(item.changes)) { const path = str(rec(change).path); if (path != null) out.push({ type: 'file_change', path }) }
      } else if (itemType === 'error' && typeof item.message === 'string') {
        out.push({ type: 'error', message: item.message })
      }
    } else if (type === 'turn.completed') {
      const usage = rec(event.usage)
      const inputTokens = num(usage.input_tokens)
      const outputTokens = num(usage.output_tokens)
      out.push({ type: 'usage', ...(inputTokens != null ? { inputTokens } : {}), ...(outputTokens != null ? { outputTokens } : {}) })
      out.push({ type: 'final', ok: true, reason: 'completed', ...(lastMessage != null ? { text: lastMessage } : {}) })
    } else if (type === 'turn.failed') {
      const message = str(rec(event.error).message) ?? 'turn failed'
      out.push({ type: 'final', ok: false, reason: reasonFromText(message) ?? 'error', text: message })
    } else if (type === 'error' && typeof event.message === 'string') {
      out.push({ type: 'error', message: event.message })
    }
    return out
  }
}

export function codexAdapter (config: CliAdapterConfig = {}) {
  return cliAdapter('codex', CODEX_TEMPLATE, codexParser, config)
}
