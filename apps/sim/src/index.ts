export { runScenario, type RunInit, type RunResult } from './runner.js'
export { runCli, scenarioPath, SCENARIO_DIR, type CliIo } from './cli.js'
export {
  parseScenario, loadScenario, validateScenario, applyOverrides, ScenarioSchema, DEFAULTS,
  type Scenario, type ScenarioInput, type Overrides, type Fault, type Agent, type Lease, type Timings, type Transport
} from './scenario.js'
export { buildReport, type Report, type ReportInput, type Check, type Recovery, type TaskTimeline } from './metrics.js'
export { percentile, distribution, type Distribution } from './percentile.js'
export { formatTable } from './table.js'
export { renderHtml } from './html.js'
export { createProgressView, emptyProgress, foldProgress, summarise, progressLine, type Progress, type ProgressView } from './progress.js'
export { memoryNodeFactory, agentExecutor } from './peer-node.js'
export { daemonNodeFactory, eventOfLine, daemonEnv, type DaemonPlacement, type DaemonFacts, type DaemonFactoryInit } from './daemon-node.js'
export { netnsTransport, NETNS_MESH_PORT, NETNS_HTTP_PORT } from './transport-netns.js'
export { netnsPlan, setUpCommands, tearDownCommands, staleNamespaces, netnsUnavailable, openNetnsNetwork, MAX_NETNS_PEERS, type NetnsPlan, type NetnsNetwork } from './netns.js'
export { createScriptedAgent, drawFate, type AgentFate, type ScriptedAgentInit } from './agent.js'
export type { NodeFactory, NodeSpec, SimNode, NodeEvent, SimNetwork, SimTransport } from './node.js'
export type { SimEvent, SimEventKind, ForgeFacts, LogCheck } from './events.js'
export { SimError, ScenarioError, ArgumentError, NodeError, NetnsError, type SimErrorCode, type ScenarioIssue } from './errors.js'
