/** The forge's public types: seeds, options, events and the `Forge` handle. */
import type { EventEmitter } from 'node:events'
import type { FaultConfig } from './faults.js'
import type { RateLimitConfig } from './ratelimit.js'
import type { ForgeState, IssueRecord, Permission, RepoRecord, UserRecord } from './state.js'
import type { Delivery, WebhookInit } from './webhooks.js'

export interface SeedUser {
  login: string
  /** API token; also the git Basic-auth password. */
  token?: string
  name?: string
  email?: string
}

export interface SeedOrg {
  login: string
  members?: string[]
  /** Organisation owners: admin on every repository of the organisation. */
  owners?: string[]
}

export interface SeedIssue {
  title: string
  body?: string
  author: string
  labels?: string[]
  assignees?: string[]
  state?: 'open' | 'closed'
}

export interface SeedRepo {
  owner: string
  name: string
  defaultBranch?: string
  description?: string
  /** Files of an initial commit on the default branch (none: an empty repository). */
  files?: Record<string, string>
  /** Explicit permissions; the owner (and the organisation's owners) are always admin. */
  permissions?: Record<string, Permission>
  labels?: Array<string | { name: string, color?: string, description?: string }>
  issues?: SeedIssue[]
  /** Refuse non-fast-forward pushes (force pushes) to every branch, as a protected branch does. */
  denyForcePush?: boolean
}

export interface ForgeSeed {
  users?: SeedUser[]
  orgs?: SeedOrg[]
  repos?: SeedRepo[]
}

export interface ForgeInit {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number
  host?: string
  /** Where the bare repositories live; default a temporary directory, removed on close. */
  dataDir?: string
  seed?: ForgeSeed
  /** Seed of the generator that draws faults, so a run can be replayed. */
  random?: { seed: number }
  /** A fork's git objects (and branches) appear this many ms after it is created (default 0). */
  forkDelayMs?: number
  rateLimit?: Partial<RateLimitConfig>
  faults?: FaultConfig
  /** The clock (ms since the epoch); default `Date.now`. */
  now?: () => number
}

/** A push (or ref change through the API) as the forge saw it; `after: null` is a deletion. */
export interface PushEvent {
  owner: string
  repo: string
  ref: string
  before: string | null
  after: string | null
  pusher: string | null
}

/** One REST request, once answered. */
export interface RequestEvent {
  method: string
  path: string
  status: number
  login: string | null
  ms: number
}

/** Events of `forge.events` (a typed node EventEmitter), for simulations to observe. */
export interface ForgeEvents {
  request: [RequestEvent]
  push: [PushEvent]
  'fork-ready': [{ owner: string, repo: string }]
}

export interface Forge {
  /** Typed events: `request`, `push`, `fork-ready`. */
  readonly events: EventEmitter<ForgeEvents>
  /** `http://host:port`: the REST API root (Octokit's `baseUrl`) and the git host. */
  readonly url: string
  readonly port: number
  /** Directory holding the bare repositories. */
  readonly dataDir: string
  /** The state model, for assertions in tests. */
  readonly state: ForgeState
  /** Every webhook delivery so far. */
  readonly deliveries: readonly Delivery[]
  /** Clone URL of a repository (Basic auth: any user name, the token as password). */
  gitUrl: (owner: string, repo: string, token?: string) => string
  /** Path of a repository's bare git directory. */
  repoPath: (owner: string, repo: string) => string
  /**
   * Merges `faults` into those in force: a key given replaces that key, the others stay (`{}`
   * changes nothing). To lift a fault, set its key to 0 or `undefined`.
   */
  setFaults: (faults: FaultConfig) => void
  setRateLimit: (config: Partial<RateLimitConfig>) => void
  /** Forget all rate-limit usage. */
  resetRateLimits: () => void
  /** What the primary limit of `login` (undefined: anonymous) stands at now. */
  rateLimitUsage: (login?: string) => { limit: number, remaining: number, used: number, reset: number }
  /** Answer every REST request with a rate limit for `durationMs`. */
  burstRateLimit: (kind: 'primary' | 'secondary', durationMs: number) => void
  addUser: (user: SeedUser) => UserRecord
  /** `signal` is checked before the repository is created; once begun, creation completes. */
  addRepo: (repo: SeedRepo, options?: { signal?: AbortSignal }) => Promise<RepoRecord>
  createIssue: (owner: string, repo: string, issue: SeedIssue) => IssueRecord
  addWebhook: (owner: string, repo: string, hook: WebhookInit) => number
  removeWebhook: (id: number) => void
  /** Resolves when forks in progress, git work and webhook deliveries have finished. */
  settled: () => Promise<void>
  close: () => Promise<void>
}
