// The agent adapters, by name.
import type { AgentAdapter } from '../agent.js'
import { createCommandAdapter, type CommandAdapterInit } from '../command-adapter.js'
import { claudeAdapter } from './claude.js'
import type { CliAdapterConfig } from './cli-adapter.js'
import { codexAdapter } from './codex.js'
import { geminiAdapter } from './gemini.js'
import { ollamaAdapter, type OllamaAdapterConfig } from './ollama.js'
import { opencodeAdapter } from './opencode.js'

export const AGENT_NAMES = ['claude', 'codex', 'gemini', 'opencode', 'ollama'] as const
export type AgentName = typeof AGENT_NAMES[number]

export interface AgentAdapterConfigs {
  claude: CliAdapterConfig
  codex: CliAdapterConfig
  gemini: CliAdapterConfig & { settingsPath?: string }
  opencode: CliAdapterConfig & { provider?: string }
  ollama: OllamaAdapterConfig
  /** The generic adapter (src/command-adapter.ts): any program that prints JSON-line events or text. */
  command: CommandAdapterInit
}

export class UnknownAgentError extends Error {
  readonly agent: string
  constructor (agent: string) {
    super(`unknown agent "${agent}" (known: ${AGENT_NAMES.join(', ')}, command)`)
    this.name = 'UnknownAgentError'
    this.agent = agent
  }
}

export function isAgentName (name: string): name is AgentName {
  return (AGENT_NAMES as readonly string[]).includes(name)
}

/** The adapter for a named agent, with its configuration (command template overrides, host, …). */
export function createAgentAdapter (name: 'command', config: CommandAdapterInit): AgentAdapter
export function createAgentAdapter<N extends AgentName> (name: N, config?: AgentAdapterConfigs[N]): AgentAdapter
export function createAgentAdapter (name: string, config?: unknown): AgentAdapter
export function createAgentAdapter (name: string, config: unknown = {}): AgentAdapter {
  switch (name) {
    case 'claude': return claudeAdapter(config as CliAdapterConfig)
    case 'codex': return codexAdapter(config as CliAdapterConfig)
    case 'gemini': return geminiAdapter(config as AgentAdapterConfigs['gemini'])
    case 'opencode': return opencodeAdapter(config as AgentAdapterConfigs['opencode'])
    case 'ollama': return ollamaAdapter(config as OllamaAdapterConfig)
    case 'command': return createCommandAdapter(config as CommandAdapterInit)
    default: throw new UnknownAgentError(name)
  }
}

export { claudeAdapter, claudeParser, CLAUDE_TEMPLATE } from './claude.js'
export { codexAdapter, codexParser, CODEX_TEMPLATE } from './codex.js'
export { geminiAdapter, geminiParser, GEMINI_TEMPLATE, GEMINI_SETTINGS_PATH, geminiSettingsPath } from './gemini.js'
export { opencodeAdapter, opencodeParser, opencodeConfig, OPENCODE_TEMPLATE } from './opencode.js'
export { ollamaAdapter, OLLAMA_SYSTEM_PROMPT } from './ollama.js'
export type { OllamaAdapterConfig } from './ollama.js'
export { extractDiff, diffPaths } from './diff.js'
export { renderTemplate, fill } from './template.js'
export type { CommandTemplate, TemplateVars } from './template.js'
export type { CliAdapterConfig } from './cli-adapter.js'
