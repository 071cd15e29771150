// opencode (`opencode-ai`, checked with 1.18.33): `opencode run --format json` (JSON lines:
// step_start, text, tool_use, step_finish, error). Configured through OPENCODE_CONFIG_CONTENT:
// every permission allowed (the executor's sandbox is the boundary) and, with a base URL, its
// bundled Anthropic provider pointed there. The model is `provider/model`.
import type { AgentEvent, AgentRunSpec } from '../agent.js'
import { cliAdapter, type CliAdapterConfig } from './cli-adapter.js'
import { num, parseJsonLine, rec, reasonFromText, str } from './json-line.js'
import type { CommandTemplate } from './template.js'

export const OPENCODE_TEMPLATE: CommandTemplate = {
  file: 'opencode',
  args: [
    'run',
    '--format', 'json',
    '--dir', '{cwd}',
    '--auto',
    ['--model', '{model}'],
    '--',
    '{prompt}'
  ],
  env: {
    OPENCODE_CONFIG_CONTENT: '{opencodeConfig}',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_MODELS_FETCH: '1'
  }
}

/** The inline configuration: permissions, and the provider behind a base URL. */
export function opencodeConfig (spec: AgentRunSpec, provider = 'anthropic'): string {
  const baseUrl = spec.endpoint?.baseUrl?.replace(/\/+$/, '')
  const config: Record<string, unknown> = {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    permission: { edit: 'allow', bash: 'allow', webfetch: 'allow' }
  }
  if (baseUrl != null) {
    const options: Record<string, unknown> = { baseURL: `${baseUrl}/v1` }
    if (spec.endpoint?.apiKeyEnv != null) options.apiKey = `{env:${spec.endpoint.apiKeyEnv}}`
    config.provider = { [provider]: { options } }
  }
  return JSON.stringify(config)
}

const EDIT_TOOLS = new Set(['write', 'edit', 'patch', 'multiedit'])

export function opencodeParser (): (line: string) => AgentEvent[] {
  let text = ''
  let succeeded = 0
  let denials = 0
  return (line) => {
    const event = parseJsonLine(line)
    if (event == null) return []
    const type = str(event.type)
    const part = rec(event.part)
    const out: AgentEvent[] = []
    if (type === 'text' && typeof part.text === 'string') {
      text = part.text
      out.push({ type: 'message', text: part.text })
    } else if (type === 'tool_use' && typeof part.tool === 'string') {
      const state = rec(part.state)
      const input = rec(state.input)
      out.push({ type: 'tool_call', name: part.tool, input })
      const ok = state.status === 'completed'
      const denied = !ok && reasonFromText(str(state.error) ?? '') === 'denied'
      if (ok) succeeded++
      if (denied) denials++
      out.push({ type: 'tool_result', name: part.tool, ok, ...(denied ? { denied } : {}) })
      const path = str(input.filePath) ?? str(rec(state.metadata).filepath)
      if (ok && EDIT_TOOLS.has(part.tool) && path != null) out.push({ type: 'file_change', path })
    } else if (type === 'step_finish') {
      const tokens = rec(part.tokens)
      const inputTokens = num(tokens.input)
      const outputTokens = num(tokens.output)
      const costUsd = num(part.cost)
      out.push({
        type: 'usage',
        ...(inputTokens != null ? { inputTokens } : {}),
        ...(outputTokens != null ? { outputTokens } : {}),
        ...(costUsd != null ? { costUsd } : {})
      })
      const reason = str(part.reason)
      if (reason === 'length') out.push({ type: 'final', ok: false, reason: 'token_limit', text })
      else if (reason === 'stop' || reason === 'end_turn') {
        out.push(denials > 0 && succeeded === 0
          ? { type: 'final', ok: false, reason: 'denied', text }
          : { type: 'final', ok: true, reason: 'completed', text })
      }
    } else if (type === 'error') {
      const error = rec(event.error)
      const message = str(rec(error.data).message) ?? str(error.message) ?? str(error.name) ?? 'error'
      out.push({ type: 'error', message })
      out.push({ type: 'final', ok: false, reason: reasonFromText(message) ?? 'error', text: message })
    }
    return out
  }
}

export function opencodeAdapter (config: CliAdapterConfig & { provider?: string } = {}) {
  return cliAdapter('opencode', OPENCODE_TEMPLATE, opencodeParser, config, (spec) => ({
    opencodeConfig: opencodeConfig(spec, config.provider)
  }))
}
