// The executor's public types: what it takes, what a run hands back, what it tells on the way.
import type { FailureReport, ForkInfo, PullRequestInit, Published } from '@bzzz/github'
import type { AgentAdapter, AgentEvent } from './agent.js'

/**
 * The part of a held claim the executor uses (structurally: a `ClaimHandle` from
 * `@bzzz/github`'s claimer satisfies it). `signal` aborts when the claim is lost; `fence()`
 * throws unless the claim still holds, and is called before every push.
 */
export interface HeldClaim {
  /** The upstream repository, `owner/name`. */
  readonly repo: string
  readonly issue: number
  /** This peer's node id. */
  readonly node: string
  readonly attempt: number
  readonly signal: AbortSignal
  fence: (options?: { signal?: AbortSignal }) => Promise<unknown>
}

/** What the executor needs of `@bzzz/github`'s publisher, for the claim type `C` it is given. */
export interface TaskPublisher<C extends HeldClaim = HeldClaim> {
  ensureFork: (upstream: string, options?: { scope?: string, signal?: AbortSignal }) => Promise<ForkInfo>
  openPullRequest: (claim: C, init: PullRequestInit) => Promise<Published>
  createIssue: (claim: C, init: { title: string, body: string, key: string, signal?: AbortSignal }) => Promise<Published>
  reportFailure: (claim: C, report: FailureReport) => Promise<Published>
}

/** A git author/committer. */
export interface GitIdentity {
  name: string
  email: string
}

/** The three limits of one agent run, plus the grace after its final event. */
export interface RunLimits {
  /** Whole run. Default 30 minutes. */
  wallClockMs: number
  /** No output and no event for this long. Default 5 minutes. */
  inactivityMs: number
  /** Tokens (input + output) reported by the agent. Default: none. */
  maxTokens?: number
  /** Cost in USD reported by the agent. Default: none. */
  maxCostUsd?: number
  /** A process still alive this long after its final event is ended. Default 10 s. */
  exitGraceMs: number
  /** Between SIGTERM and SIGKILL when a run is ended. Default 2 s. */
  killGraceMs: number
  /** Passed to CLIs that have a turn limit of their own. Default: none. */
  maxTurns?: number
}

export type SandboxMode = 'none' | 'bwrap'
/** `pid-namespace`: `unshare --pid --fork --kill-child` (root); `process-group`: the documented fallback. */
export type IsolationMode = 'auto' | 'pid-namespace' | 'process-group'

export interface ExecutorInit<C extends HeldClaim = HeldClaim> {
  /** The peer's data directory: workspaces go under `<dataDir>/executor/`. Unreadable to a sandboxed agent. */
  dataDir: string
  /** The agent to run. */
  agent: AgentAdapter
  /** `@bzzz/github`'s publisher (or anything shaped like it). */
  publisher: TaskPublisher<C>
  /** Authenticates git over HTTP through the environment (`client.gitEnv()`): never argv, never `.git/config`. */
  gitEnv: () => Record<string, string>
  /** Commits are authored and committed as this. Default: `git config --global user.name/email`. */
  identity?: GitIdentity
  limits?: Partial<RunLimits>
  /** Push a work-in-progress commit this often while the agent runs. Default 2 minutes; 0 = never (still on every end). */
  wipIntervalMs?: number
  /** Default `none`. `bwrap` needs bubblewrap on the PATH. */
  sandbox?: SandboxMode
  /** More paths the sandboxed agent may write (its own state directory, e.g. `~/.claude`). */
  sandboxWritable?: readonly string[]
  /** Default `auto`: a PID namespace where `unshare` works, else a process group. */
  isolation?: IsolationMode
  /** Environment variables passed through to the agent (names). Default: PATH, HOME, LANG, LC_ALL, TERM, TZ, TMPDIR, USER. */
  envAllow?: readonly string[]
  /** Extra fixed environment for the agent (never a GitHub token: names matching a token pattern are refused). */
  env?: Record<string, string>
  /** Model passed to the agent where the task names none. */
  model?: string
  /** Endpoint overrides handed to the adapter (a local model server). */
  endpoint?: { baseUrl?: string, apiKeyEnv?: string }
  /** Most bytes of agent output kept on disk; beyond it the run is ended. Default 64 MiB. */
  maxOutputBytes?: number
  /** Characters of output tail kept for a failure report. Default 8000. */
  tailChars?: number
  log?: { debug?: (m: string) => void, info?: (m: string) => void, warn?: (m: string) => void }
}

/** One task to run. */
export interface ExecutorTask {
  /** Upstream `owner/name`; must equal the claim's. */
  repo: string
  issue: number
  title: string
  body: string
  /** The task's input beyond the issue (e.g. the broadcast's params, a helper's instructions). */
  input?: string
  /** Model for the agent; overrides the executor's. */
  model?: string
  /** Another peer's work-in-progress branch to continue from (from the task's claim history). */
  wipFrom?: WipRef
}

/** A work-in-progress branch on a fork. */
export interface WipRef {
  /** The fork's owner. */
  owner: string
  /** The fork's repository name. Default: the upstream's name. */
  repo?: string
  branch: string
}

export type FailureReason =
  | 'agent_failed'
  | 'no_change'
  | 'denied'
  | 'wall_clock'
  | 'inactivity'
  | 'budget'
  | 'output_limit'
  | 'turn_limit'
  | 'token_limit'
  | 'workspace'

export type CancelReason = 'aborted' | 'claim_lost' | 'closed'

interface OutcomeBase {
  durationMs: number
  /** The task branch on this peer's fork (its WIP or final commits), where anything was pushed. */
  wip?: WipRef & { commit: string }
  /** Usage reported by the agent. */
  usage: { inputTokens: number, outputTokens: number, costUsd: number }
}

export type ExecutorOutcome =
  | OutcomeBase & { type: 'pull_request', url: string, number: number, branch: string, commit: string, followUps: Published[] }
  | OutcomeBase & { type: 'issues', followUps: Published[] }
  | OutcomeBase & { type: 'failure', reason: FailureReason, report: Published | undefined, tried: string, tail: string }
  | OutcomeBase & { type: 'help', capabilities: string[], reason: string }
  | OutcomeBase & { type: 'cancelled', reason: CancelReason }

/** What a run reports on the way. */
export type ExecutorEvent =
  | { type: 'state', state: RunPhase }
  | { type: 'agent', event: AgentEvent }
  | { type: 'wip', branch: string, commit: string }
  | { type: 'ended', outcome: ExecutorOutcome['type'] }

export type RunPhase = 'preparing' | 'running' | 'collecting' | 'publishing' | 'done'

export interface RunOptions {
  signal?: AbortSignal
  onEvent?: (event: ExecutorEvent) => void
}

export interface Executor<C extends HeldClaim = HeldClaim> {
  /** Runs the task under the held claim: workspace, agent, WIP pushes, then the result published. */
  run: (task: ExecutorTask, claim: C, options?: RunOptions) => Promise<ExecutorOutcome>
  /** Ends every run (each pushes its WIP and resolves `cancelled`/'closed'), e.g. on SIGTERM. */
  close: () => Promise<void>
}
