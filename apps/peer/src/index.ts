export {
  createNode,
  DEFAULT_TIMINGS,
  warmUpOf,
  type BzzzNode,
  type NodeInit,
  type NodeGitHubInit,
  type NodeTimings,
  type NodeStatus,
  type LogCheck
} from './node.js'
export { NODE_EVENT_NAMES, type NodeEvents, type NodeEventName, type ProgressEvent } from './events.js'
export type { TaskExecutor, TaskWork, TaskOutcome, WipSource } from './execution.js'
export type { WorkEnd } from './worker.js'
export { createScriptedExecutor, type ScriptedExecutorInit, type ScriptedStep } from './scripted-executor.js'
export { openWorkspace, type Workspace, type GitIdentity } from './git.js'
export {
  detectedCapabilities,
  staticCapabilities,
  type CapabilitySource,
  type CapabilitySourceFactory,
  type StaticCapabilitiesInit
} from './capabilities.js'
export {
  INITIAL_LIFECYCLE,
  lifecycleStep,
  canClaim,
  LifecycleTransitionError,
  type LifecyclePhase,
  type LifecycleState,
  type LifecycleEvent,
  type LifecycleAction
} from './lifecycle.js'
export { expandRepos, isRepoPattern } from './repos.js'
