// What the node asks of whatever runs an agent on a task. The node claims, fences, publishes
// and announces; the executor turns a claimed task into commits pushed to this node's fork.
// `@bzzz/executor` plugs in behind this interface (see executor-adapter.ts); tests and the
// simulation use `createScriptedExecutor`.
import type { ClaimHandle, ForkInfo, GitHubClient, Publisher } from '@bzzz/github'
import type { TaskBroadcastMessage } from '@bzzz/protocol'
import type { ProgressEvent } from './events.js'

/** Earlier work on the task: a previous holder's (or a help asker's) pushed branch. */
export interface WipSource {
  /** `owner/repo` of the fork holding it. */
  fork: string
  cloneUrl: string
  branch: string
}

export interface TaskWork {
  key: string
  repo: string
  issue: number
  attempt: number
  announcement: TaskBroadcastMessage | undefined
  claim: ClaimHandle
  client: GitHubClient
  publisher: Publisher
  /** This node's fork of `repo` (ready to clone). */
  fork: ForkInfo
  /** The branch to push to on the fork. */
  branch: string
  /** Earlier work to continue from, when there is some. */
  wip: WipSource | undefined
  /** A fresh directory for this run, removed afterwards. */
  workDir: string
  /** Aborted when the claim is lost or the node drains past its deadline: push WIP and return `stopped`. */
  signal: AbortSignal
  progress: (event: ProgressEvent) => void
  /** Tell the peers (and the node's log) where pushed WIP is; call after each push of WIP. */
  wipPushed: (branch: string) => void
  /**
   * Call when the agent has ended and only publishing is left (commit, push, pull request or
   * report: the claim's fence can hold these for a minute). The node frees the task's slot for
   * other work meanwhile. Optional to call: the node assumes it when `run` returns.
   */
  agentEnded: () => void
}

export type TaskOutcome =
  /** Commits are on `work.branch` of the fork: open a pull request. */
  | { kind: 'changes', title: string, summary: string, log?: string }
  /** The agent could not do it: post a failure report. */
  | { kind: 'failure', reason: string, tried: string }
  /** The agent needs something this node lacks; WIP (if any) is pushed to `work.branch`. */
  | { kind: 'help', capability: string, reason: string }
  /** The executor published the result itself (pull request or failure report). */
  | { kind: 'published', type: 'pull_request' | 'issue' | 'failure', url: string, reason?: string }
  /** Stopped by `signal`; WIP (if any) is pushed. */
  | { kind: 'stopped', wipPushed: boolean }

export interface TaskExecutor {
  /** Capabilities (agent CLIs / models) this executor can offer to others asking for help. */
  readonly offers?: readonly string[]
  run: (work: TaskWork) => Promise<TaskOutcome>
}
