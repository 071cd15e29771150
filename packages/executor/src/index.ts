export type {
  AgentAdapter,
  AgentCommand,
  AgentEvent,
  AgentRunSpec,
  AgentStopReason,
  CliAgentAdapter,
  InProcessAgentAdapter
} from './agent.js'
export type {
  CancelReason,
  Executor,
  ExecutorEvent,
  ExecutorInit,
  ExecutorOutcome,
  ExecutorTask,
  FailureReason,
  GitIdentity,
  HeldClaim,
  IsolationMode,
  RunLimits,
  RunOptions,
  RunPhase,
  SandboxMode,
  TaskPublisher,
  WipRef
} from './types.js'
export {
  ExecutorError,
  ExecutorConfigError,
  GitCommandError,
  AgentSpawnError,
  SandboxUnavailableError,
  OutcomeFileError,
  type ExecutorErrorCode
} from './errors.js'
export { createCommandAdapter, parseJsonlLine, type CommandAdapterInit } from './command-adapter.js'
export { buildPrompt, readContributing, type PromptInit } from './prompt.js'
export { fence, stripInvisible } from './sanitize.js'
export { OUTCOME_FILE, OutcomeFileSchema, FollowUpSchema, parseOutcomeFile, readOutcomeFile, type OutcomeFile, type FollowUp } from './outcome-file.js'
export { agentEnv, secretsOfGitEnv, DEFAULT_ENV_ALLOW, type AgentEnvInit } from './env.js'
export { runProcess, type ProcessRunInit, type ProcessRunResult } from './process-runner.js'
export { initialState, transition, type RunState, type RunInput, type RunEffect, type StopReason, type Usage, type FinalSeen } from './run-machine.js'
export { detectContainment, assertBwrap, bwrapArgs, containedArgv, type Containment, type SandboxSpec } from './isolation.js'
export { createExecutor, taskBranch, DEFAULT_LIMITS } from './executor.js'

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
  canUseNetworkNamespaces,
  withLoopbackNamespace
} from './model-server/index.js'
export type { ModelScript, ScriptAction, ScriptedModelServer, ScriptedModelServerInit, RecordedRequest, LoopbackBridge } from './model-server/index.js'
