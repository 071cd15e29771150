export type {
  AgentAdapter,
  AgentCommand,
  AgentEvent,
  AgentRunSpec,
  AgentStopReason,
  CliAgentAdapter,
  InProcessAgentAdapter
} from './agent.js'

// Agent adapters (src/agents) and the scripted model server for tests (src/model-server).
export {
  AGENT_NAMES,
  createAgentAdapter,
  isAgentName,
  UnknownAgentError,
  claudeAdapter,
  claudeParser,
  codexAdapter,
  codexParser,
  geminiAdapter,
  geminiParser,
  opencodeAdapter,
  opencodeParser,
  ollamaAdapter,
  extractDiff,
  diffPaths,
  renderTemplate
} from './agents/index.js'
export type { AgentName, AgentAdapterConfigs, CliAdapterConfig, CommandTemplate, OllamaAdapterConfig } from './agents/index.js'
export {
  createScriptedModelServer,
  inLoopbackNamespace,
  loopbackEnv,
  canUseNetworkNamespaces
} from './model-server/index.js'
export type { ModelScript, ScriptAction, ScriptedModelServer, ScriptedModelServerInit, RecordedRequest, LoopbackBridge } from './model-server/index.js'
