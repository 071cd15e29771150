export type {
  AgentAdapter,
  AgentCommand,
  AgentEvent,
  AgentRunSpec,
  AgentStopReason,
  CliAgentAdapter,
  InProcessAgentAdapter
} from './agent.js'
