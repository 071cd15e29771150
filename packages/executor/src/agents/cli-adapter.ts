// What every CLI adapter shares: its command template (overridable) and the run's variables.
import type { AgentEvent, AgentRunSpec, CliAgentAdapter } from '../agent.js'
import { renderTemplate, type CommandTemplate, type TemplateVars } from './template.js'

export interface CliAdapterConfig {
  /** Replaces parts of the adapter's default template (the executable, the arguments, the environment). */
  template?: Partial<CommandTemplate>
  /** Extra environment entries (placeholders allowed), added to the template's. */
  env?: Record<string, string>
}

/** The placeholders every template may use. */
export function runVars (spec: AgentRunSpec): TemplateVars {
  return {
    prompt: spec.prompt,
    cwd: spec.cwd,
    model: spec.model,
    maxTurns: spec.limits?.maxTurns,
    maxBudgetUsd: spec.limits?.maxBudgetUsd,
    maxTokens: spec.limits?.maxTokens,
    baseUrl: spec.endpoint?.baseUrl?.replace(/\/+$/, ''),
    apiKeyEnv: spec.endpoint?.apiKeyEnv
  }
}

export function cliAdapter (
  name: string,
  defaults: CommandTemplate,
  parser: () => (line: string) => AgentEvent[],
  config: CliAdapterConfig = {},
  extraVars: (spec: AgentRunSpec) => TemplateVars = () => ({})
): CliAgentAdapter {
  const template: CommandTemplate = {
    file: config.template?.file ?? defaults.file,
    args: config.template?.args ?? defaults.args,
    env: { ...(config.template?.env ?? defaults.env), ...config.env }
  }
  return {
    kind: 'cli',
    name,
    command: (spec) => renderTemplate(template, { ...runVars(spec), ...extraVars(spec) }),
    parser
  }
}
