// Gemini CLI (`@google/gemini-cli`, checked with 0.61.0): headless `-p` with
// `--output-format stream-json` (JSON lines: init, message, tool_use, tool_result, error, result).
// A base URL goes in GOOGLE_GEMINI_BASE_URL (plain http only to localhost). That variable alone
// makes the CLI pick its "gateway" auth type, which headless mode then rejects ("Invalid auth
// method selected."), so the API-key auth type is set through a system settings file shipped with
// this package (agent-settings/gemini.json, via GEMINI_CLI_SYSTEM_SETTINGS_PATH).
import { copyFileSync, mkdirSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AgentEvent } from '../agent.js'
import { cliAdapter, type CliAdapterConfig } from './cli-adapter.js'
import { num, parseJsonLine, rec, reasonFromText, str } from './json-line.js'
import type { CommandTemplate } from './template.js'

/** The settings file that selects API-key auth (used with a base URL). Same path from src/ and dist/. */
export const GEMINI_SETTINGS_PATH = fileURLToPath(new URL('../../agent-settings/gemini.json', import.meta.url))

/** Whether no directory above `path` is writable by group or others (gemini skips a system settings file otherwise). */
function secureAncestors (path: string): boolean {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o022) !== 0) return false
    if (dirname(dir) === dir) return true
  }
}

let usableSettings: string | undefined
/**
 * The settings file as gemini will read it: the shipped one, or, where the package lies below a
 * directory others can write (an install under /tmp), a copy in `~/.cache/bzzz/`.
 */
export function geminiSettingsPath (): string {
  if (usableSettings !== undefined) return usableSettings
  if (secureAncestors(GEMINI_SETTINGS_PATH)) return (usableSettings = GEMINI_SETTINGS_PATH)
  const dir = join(homedir(), '.cache', 'bzzz')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const copy = join(dir, 'gemini-settings.json')
  copyFileSync(GEMINI_SETTINGS_PATH, copy)
  return (usableSettings = copy)
}

export const GEMINI_TEMPLATE: CommandTemplate = {
  file: 'gemini',
  args: [
    '--output-format', 'stream-json',
    // Headless runs cannot answer approval prompts: the executor's sandbox is the boundary.
    '--approval-mode', 'yolo',
    '--skip-trust',
    // A fixed model skips the "auto" router, which asks a classifier model first.
    ['--model', '{model}'],
    ['--prompt', '{prompt}']
  ],
  env: {
    GOOGLE_GEMINI_BASE_URL: '{baseUrl}',
    GEMINI_CLI_SYSTEM_SETTINGS_PATH: '{geminiSettings}'
  }
}

const EDIT_TOOLS = new Set(['write_file', 'replace', 'edit'])

export function geminiParser (): (line: string) => AgentEvent[] {
  const calls = new Map<string, { name: string, input: Record<string, unknown> }>()
  let text = ''
  let succeeded = 0
  let denials = 0
  return (line) => {
    const event = parseJsonLine(line)
    if (event == null) return []
    const type = str(event.type)
    const out: AgentEvent[] = []
    if (type === 'message' && event.role === 'assistant' && typeof event.content === 'string') {
      text = event.delta === true ? text + event.content : event.content
      if (event.content !== '') out.push({ type: 'message', text: event.content })
    } else if (type === 'tool_use' && typeof event.tool_name === 'string') {
      const input = rec(event.parameters)
      calls.set(str(event.tool_id) ?? '', { name: event.tool_name, input })
      out.push({ type: 'tool_call', name: event.tool_name, input })
    } else if (type === 'tool_result') {
      const call = calls.get(str(event.tool_id) ?? '')
      const output = str(event.output) ?? ''
      const errorText = str(rec(event.error).message) ?? str(event.error) ?? ''
      // Policy refusals come back as "success" whose output says it was blocked.
      const denied = /^(Blocked|Denied)\b/.test(output) || reasonFromText(errorText) === 'denied'
      const ok = event.status === 'success' && !denied
      if (denied) denials++
      if (ok) succeeded++
      out.push({ type: 'tool_result', ...(call != null ? { name: call.name } : {}), ok, ...(denied ? { denied } : {}) })
      const path = str(call?.input.file_path) ?? str(call?.input.absolute_path)
      if (ok && call != null && EDIT_TOOLS.has(call.name) && path != null) out.push({ type: 'file_change', path })
    } else if (type === 'error') {
      out.push({ type: 'error', message: str(event.message) ?? 'error' })
    } else if (type === 'result') {
      const stats = rec(event.stats)
      const inputTokens = num(stats.input_tokens) ?? num(stats.input)
      const outputTokens = num(stats.output_tokens)
      out.push({ type: 'usage', ...(inputTokens != null ? { inputTokens } : {}), ...(outputTokens != null ? { outputTokens } : {}) })
      if (event.status === 'success') {
        out.push(denials > 0 && succeeded === 0
          ? { type: 'final', ok: false, reason: 'denied', text }
          : { type: 'final', ok: true, reason: 'completed', text })
      } else {
        const message = str(rec(event.error).message) ?? str(event.error) ?? text
        out.push({ type: 'final', ok: false, reason: reasonFromText(message) ?? 'error', text: message })
      }
    }
    return out
  }
}

export function geminiAdapter (config: CliAdapterConfig & { settingsPath?: string } = {}) {
  return cliAdapter('gemini', GEMINI_TEMPLATE, geminiParser, config, (spec) => ({
    geminiSettings: spec.endpoint?.baseUrl != null ? (config.settingsPath ?? geminiSettingsPath()) : config.settingsPath
  }))
}
