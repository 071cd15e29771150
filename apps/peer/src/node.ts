// One peer of the mesh, assembled from the packages: the mesh, capabilities, the ledger and
// signed log (memory or SQLite), the GitHub client, watcher, claimer and publisher, and an
// executor. The daemon (`bzzz start`), `bzzz task run`, apps/sim and embedding services all
// build their peers with `createNode`; every component can be injected.
import { EventEmitter } from 'node:events'
import { mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createClaimer, createGitHubClient, createPublisher, createWatcher,
  type Claimer, type GitHubClient, type Publisher, type RetryInit, type ThrottleInit, type TokenSource, type Watcher
} from '@bzzz/github'
import { createMesh, type Mesh, type MeshInit } from '@bzzz/mesh'
import { TOPICS, type Message, type TaskBroadcastMessage, type Topic, type TopicMessageMap } from '@bzzz/protocol'
import {
  createLedger, createLogReplicator, createMemoryStore, createSignedLog, logEntryForMessage, openStateStore, verifyLog,
  type Holder, type Ledger, type LedgerStore, type LivenessConfig, type LogReplicator, type LogStore, type PeerView, type SignedLog, type SyncResult, type TaskView
} from '@bzzz/state'
import { pino, type Logger } from 'pino'
import { detectedCapabilities, type CapabilitySource, type CapabilitySourceFactory } from './capabilities.js'
import { NODE_EVENT_NAMES, type NodeEvents } from './events.js'
import type { AgentAdapter } from '@bzzz/executor'
import { createAgentExecutor, type AgentExecutorInit } from './agent-executor.js'
import type { TaskExecutor, WipSource } from './execution.js'
import { createHelpDesk, type HelpDesk } from './help.js'
import { INITIAL_LIFECYCLE, canClaim, lifecycleStep, type LifecycleAction, type LifecycleEvent, type LifecyclePhase, type LifecycleState } from './lifecycle.js'
import { announcementFor } from './issue.js'
import { expandRepos } from './repos.js'
import { earlierHolderLogins, parseWipNote } from './wip.js'
import { createCatchUp, type CatchUp } from './catch-up.js'
import { createClaimLoop, mayMakeClaimable, type ClaimLoop } from './claim-loop.js'
import { createClaimPostings, createHandOff, type HandOff } from './hand-off.js'
import { periodic } from './periodic.js'
import { parseTaskKey, runWork, type WorkEnd, type WorkerContext } from './worker.js'
import { EMPTY_WORK, freeSlots, keysIn, slotsInUse, workStep, type WorkEvent, type WorkTable } from './work-table.js'

export interface NodeTimings {
  /** How often a presence ping goes out. Default 2000 ms. */
  presenceMs: number
  /** How often capabilities go out even without a change. Default 30 000 ms. */
  capabilitiesMs: number
  /** How often the node looks for work and elections. Default 250 ms. */
  tickMs: number
  /** Wait after start before taking part in watcher elections and claims (hear the others first). Default 2 × presenceMs; never less than 1.5 × presenceMs (see `warmUpOf`). */
  warmUpMs: number
  /** Poll interval of each watched repository (while elected). Default 30 000 ms. */
  watchIntervalMs: number
  /** How often `owner/*` patterns are expanded again. Default 300 000 ms. */
  reposRefreshMs: number
  /** How often the logs are replicated with every connected peer. Default 60 000 ms. */
  replicateMs: number
  /** Claim lease. Default 20 minutes (the claimer's). */
  leaseMs: number
  /** Lease renewal period. Default the claimer's (half the lease). */
  renewEveryMs: number | undefined
  /** Claim settle time (≥ the forge's list lag). Default 2000 ms. */
  settleMs: number
  /** Grace past another node's lease. Default the claimer's. */
  graceMs: number | undefined
  /** The claim's safety margin: a claim's first fence passes ≈ settleMs + W after it, W = marginMs + max(marginMs / 2, 1 s) + 4 × settleMs. Default the claimer's, min(30 s, lease / 5). */
  marginMs: number | undefined
  /** First wait between fork readiness checks. Default 1000 ms. */
  forkPollMs: number
  /** Each standby claimer waits this much longer than the one before. Default max(1500, 2 × settleMs + 1000) ms. */
  standbyStepMs: number
  /** Liveness thresholds of the ledger. */
  liveness: Partial<LivenessConfig>
  /** How long a drain lets running work go on before aborting it. Default 25 000 ms. */
  drainTimeoutMs: number
  /** Help: wait for offers, then give up. */
  helpCollectMs: number
  helpTimeoutMs: number
  /**
   * The longest a watcher holds a new task's announcement back from the mesh while the peer it
   * expects to claim the task (itself, or a peer it hands the task to straight) posts its claim.
   * 0: no hand-off, the announcement goes to the mesh at once. Default 2000.
   */
  handOffMs: number
}

export const DEFAULT_TIMINGS: Readonly<Omit<NodeTimings, 'warmUpMs'>> = Object.freeze({
  presenceMs: 2000,
  capabilitiesMs: 30_000,
  tickMs: 250,
  watchIntervalMs: 30_000,
  reposRefreshMs: 300_000,
  replicateMs: 60_000,
  leaseMs: 1_200_000,
  renewEveryMs: undefined,
  settleMs: 2000,
  graceMs: undefined,
  marginMs: undefined,
  forkPollMs: 1000,
  standbyStepMs: 1500,
  liveness: {},
  drainTimeoutMs: 25_000,
  helpCollectMs: 2000,
  helpTimeoutMs: 30_000,
  handOffMs: 2000
})

export interface NodeGitHubInit {
  /** The token: `{ file }`, `{ env }`, a function or the string. Needed unless `client` is given. */
  token?: TokenSource
  /** REST API root. Default `https://api.github.com` (a forge's URL in tests). */
  baseUrl?: string
  /** Git root. Default `https://github.com` (the forge's URL in tests). */
  gitBaseUrl?: string
  throttle?: ThrottleInit
  retry?: RetryInit
  /** A client made elsewhere (its logger is its own). */
  client?: GitHubClient
}

export interface NodeInit {
  /** A name for people (dashboard, capabilities). */
  name?: string
  /** Where the identity key (`identity.key`), the state (`state.db`) and work directories go. Unset: nothing persists. */
  dataDir?: string
  /** Mesh options (transport `tcp`|`memory`, listen, bootstrap, meshName, mdns, networkKey, …). */
  mesh?: Omit<MeshInit, 'now'>
  github: NodeGitHubInit
  /** Watched repositories: `owner/name` or `owner/*`. */
  repos?: readonly string[]
  /** `sqlite` (default with a data directory), `memory`, or a store of your own. */
  store?: 'memory' | 'sqlite' | (LogStore & LedgerStore & { close?: () => void })
  /** The clock (ms since the epoch). Default `Date.now`. */
  now?: () => number
  /** Runs the agent on claimed tasks. Without one (and without `agent`) the node takes no tasks (it still watches, relays and logs). */
  executor?: TaskExecutor
  /** An agent adapter from @bzzz/executor (claude, codex, gemini, opencode, ollama, command): run through `createExecutor`. */
  agent?: AgentAdapter
  /** Options of that executor (identity, limits, sandbox, model, endpoint, …). */
  agentOptions?: Partial<Omit<AgentExecutorInit, 'agent'>>
  /** Default: the machine's detected capabilities. */
  capabilities?: CapabilitySourceFactory
  /** Tasks worked on at once. Default 1. */
  slots?: number
  timings?: Partial<NodeTimings>
  /** One pino logger for the node and every package it assembles. Default silent. */
  logger?: Logger
  /** GitHub logins whose claim markers count besides the mesh's peers'. */
  trustedClaimants?: readonly string[]
  /** Watcher eligibility: the label and trusted author associations. */
  watch?: {
    label?: string
    trustedAssociations?: readonly string[]
    defaultModel?: string
    /** How far back each poll looks for issues that a lagging list showed late. Default the watcher's (5 min): GitHub's lists lag by seconds, now and then by minutes. */
    overlapMs?: number
  }
}

export interface NodeStatus {
  nodeId: string
  name: string | undefined
  phase: LifecyclePhase
  startedAt: number | undefined
  repos: string[]
  watching: string[]
  /** The tasks this node holds: agents at work and results being published. */
  active: string[]
  /** Of those, the ones whose agent has ended and whose result is being published (they hold no slot). */
  publishing: string[]
  /** A slot counts agent work: free = total − agents at work, none while the node holds 2 × total tasks (results waiting to publish count). */
  slots: { total: number, free: number }
  peers: number
  addresses: string[]
  log: { length: number, hash: string | null }
  requests: { counted: number, notModified: number }
}

export interface LogCheck {
  author: string
  length: number
  ok: boolean
  /** The failing entry and why, when not ok. */
  error?: { seq: number, code: string, message: string }
}

/** A peer of the mesh. Events: see `NodeEvents`. */
export interface BzzzNode extends EventEmitter<NodeEvents> {
  readonly nodeId: string
  readonly name: string | undefined
  readonly mesh: Mesh
  readonly ledger: Ledger
  readonly log: SignedLog
  readonly store: LogStore & LedgerStore
  readonly client: GitHubClient
  readonly logger: Logger
  readonly timings: Readonly<NodeTimings>
  readonly phase: LifecyclePhase
  /** Starts the mesh, capabilities, timers; takes part in elections and claims after the warm-up. */
  start: (options?: { signal?: AbortSignal }) => Promise<void>
  /** Drains: no new claims, running work finishes (or, past `timeoutMs`, pushes its WIP and releases); then stops. */
  drain: (options?: { signal?: AbortSignal, timeoutMs?: number }) => Promise<void>
  /** A drain whose deadline is now: running work pushes WIP and releases at once. */
  stop: (options?: { signal?: AbortSignal }) => Promise<void>
  /** A crash: everything stops at once, nothing is released or announced (for tests and the simulation). */
  kill: () => Promise<void>
  status: () => NodeStatus
  peers: () => PeerView[]
  tasks: () => TaskView[]
  /** The watched repositories, `owner/*` expanded. */
  repos: () => string[]
  /** Replicates the logs with every connected peer now. */
  replicate: (options?: { signal?: AbortSignal }) => Promise<SyncResult[]>
  /** Verifies this node's log and every replicated one; says which entry of whose log fails. */
  verifyLogs: (options?: { signal?: AbortSignal }) => Promise<LogCheck[]>
  /** Replaces the watched repositories (a configuration reload); `owner/*` is expanded now. */
  setRepos: (patterns: readonly string[], options?: { signal?: AbortSignal }) => Promise<string[]>
  /** Claims and works on one issue now, whatever the ranking says (`bzzz task run`). */
  runTask: (repo: string, issue: number, options?: { signal?: AbortSignal, attempt?: number }) => Promise<WorkEnd>
}

interface Active { key: string, controller: AbortController, done: Promise<WorkEnd> }

function silentLogger (): Logger {
  return pino({ level: 'silent' })
}

function githubLog (logger: Logger): { debug: (m: string) => void, info: (m: string) => void, warn: (m: string) => void, error: (m: string) => void } {
  const l = logger.child({ component: 'github' })
  return { debug: (m) => { l.debug(m) }, info: (m) => { l.info(m) }, warn: (m) => { l.warn(m) }, error: (m) => { l.error(m) } }
}

/**
 * How long a node waits after its start before it takes part in watcher elections and claims:
 * `warmUpMs` (default two presence periods), never less than one and a half. A peer that joins
 * after the others hears of each of them at their next presence (their start-up messages went out
 * before it connected); warm any sooner, it would rank itself first on tasks that a peer it has
 * not heard of yet ranks first on, and post losing claims.
 */
export function warmUpOf (timings: { presenceMs?: number, warmUpMs?: number }): number {
  const presenceMs = timings.presenceMs ?? DEFAULT_TIMINGS.presenceMs
  return Math.max(timings.warmUpMs ?? 2 * presenceMs, 1.5 * presenceMs)
}

/** Assembles a node. Nothing runs until `start()`. */
export async function createNode (init: NodeInit): Promise<BzzzNode> {
  const now = init.now ?? Date.now
  const logger = init.logger ?? silentLogger()
  const presenceMs = init.timings?.presenceMs ?? DEFAULT_TIMINGS.presenceMs
  const settleMs = init.timings?.settleMs ?? DEFAULT_TIMINGS.settleMs
  // A standby waits long enough for the preferred claimer's claim to settle and be announced,
  // so that the mesh posts one claim comment per task, not one per peer.
  const timings: NodeTimings = { ...DEFAULT_TIMINGS, warmUpMs: 2 * presenceMs, standbyStepMs: Math.max(1500, 2 * settleMs + 1000), ...init.timings }
  const slots = init.slots ?? 1
  if (!Number.isInteger(slots) || slots < 0 || slots > 1024) throw new RangeError('slots must be an integer from 0 to 1024')

  if (init.dataDir !== undefined) await mkdir(init.dataDir, { recursive: true, mode: 0o700 })
  const storeKind = init.store ?? (init.dataDir !== undefined ? 'sqlite' : 'memory')
  let store: LogStore & LedgerStore & { close?: () => void }
  if (storeKind === 'sqlite') {
    if (init.dataDir === undefined) throw new RangeError('store sqlite needs a dataDir')
    store = openStateStore({ path: join(init.dataDir, 'state.db') })
  } else if (storeKind === 'memory') {
    store = createMemoryStore()
  } else {
    store = storeKind
  }

  const mesh = await createMesh({
    ...init.mesh,
    ...(init.dataDir !== undefined && init.mesh?.privateKey === undefined && init.mesh?.identityPath === undefined
      ? { identityPath: join(init.dataDir, 'identity.key') }
      : {}),
    now
  })
  const nodeId = mesh.peerId.toString()
  logger.info({ event: 'node:created', nodeId }, 'node created')

  const client = init.github.client ?? await createGitHubClient({
    token: init.github.token ?? { env: 'GITHUB_TOKEN' },
    ...(init.github.baseUrl !== undefined ? { baseUrl: init.github.baseUrl } : {}),
    ...(init.github.gitBaseUrl !== undefined ? { gitBaseUrl: init.github.gitBaseUrl } : {}),
    ...(init.github.throttle !== undefined ? { throttle: init.github.throttle } : {}),
    ...(init.github.retry !== undefined ? { retry: init.github.retry } : {}),
    log: githubLog(logger)
  })
  const ledger = createLedger({
    selfId: nodeId,
    store,
    liveness: timings.liveness,
    standbyStepMs: timings.standbyStepMs,
    help: { collectMs: timings.helpCollectMs, timeoutMs: timings.helpTimeoutMs }
  })
  const log = createSignedLog({ privateKey: mesh.privateKey, store, clock: now })
  const replicator: LogReplicator = createLogReplicator({ components: mesh.libp2p, store })
  // An author caught signing two entries at one position: its messages no longer count, now
  // and after a restart (the evidence is kept in the store).
  for (const e of store.equivocations?.() ?? []) ledger.markEquivocating(e.author)
  replicator.addEventListener('equivocation', (event) => {
    ledger.markEquivocating(event.detail.author)
    logger.warn({ event: 'log:equivocation', author: event.detail.author, seq: event.detail.seq }, 'an author signed two entries at one position; its messages are ignored')
  })
  let githubLogin: string | undefined
  // A status write refused once (a peer with read access) is not tried on the next task.
  const statusRefused = new Set<string>()
  const newClaimer = (): Claimer => createClaimer({
    client,
    node: nodeId,
    statusRefused,
    // The claim markers that count: those of the mesh's peers (their signed capabilities name
    // their GitHub login) and the configured ones.
    trustedClaimants: () => [
      ...(init.trustedClaimants ?? []),
      ...ledger.peers(now()).map((p) => p.capabilities?.github_login).filter((l): l is string => l !== undefined)
    ],
    leaseMs: timings.leaseMs,
    settleMs: timings.settleMs,
    ...(timings.renewEveryMs !== undefined ? { renewEveryMs: timings.renewEveryMs } : {}),
    ...(timings.graceMs !== undefined ? { graceMs: timings.graceMs } : {}),
    ...(timings.marginMs !== undefined ? { marginMs: timings.marginMs } : {})
  })
  const publisher: Publisher = createPublisher({ client, forkPollMs: timings.forkPollMs, settleMs: timings.settleMs })
  const capabilities: CapabilitySource = (init.capabilities ?? detectedCapabilities({ name: init.name ?? '' }))(nodeId)
  const workRoot = join(init.dataDir ?? tmpdir(), init.dataDir !== undefined ? 'work' : `bzzz-work-${nodeId.slice(-8)}`)
  const agentExecutor = init.executor === undefined && init.agent !== undefined
    ? createAgentExecutor({ dataDir: workRoot, ...init.agentOptions, agent: init.agent })
    : undefined
  const executor: TaskExecutor | undefined = init.executor ?? agentExecutor

  const emitter = new EventEmitter<NodeEvents>()
  const emit = <K extends keyof NodeEvents>(event: K, ...args: NodeEvents[K]): void => {
    try {
      (emitter.emit as (e: K, ...a: NodeEvents[K]) => boolean)(event, ...args)
    } catch (err) {
      logger.warn({ event: 'fault', where: 'listener', err: (err as Error).message }, 'an event listener threw')
    }
  }
  // Every event goes into the node's log lines too, with a stable `event` field.
  for (const name of NODE_EVENT_NAMES) {
    if (name === 'task:progress') continue
    emitter.on(name, (detail: object) => {
      const fields = name === 'fault'
        ? { where: (detail as NodeEvents['fault'][0]).where, err: (detail as NodeEvents['fault'][0]).error.message, key: (detail as NodeEvents['fault'][0]).key }
        : detail
      logger.info({ event: name, ...fields }, name)
    })
  }
  const fault = (where: string, error: unknown, key?: string): void => {
    emit('fault', { where, error: error instanceof Error ? error : new Error(String(error)), ...(key !== undefined ? { key } : {}) })
  }

  let lifecycle: LifecycleState = INITIAL_LIFECYCLE
  let startedAt: number | undefined
  let crashed = false
  let repos: string[] = []
  /** Stops each periodic job. */
  const timers: Array<() => void> = []
  const watchers = new Map<string, Watcher>()
  const active = new Map<string, Active>()
  // Which of them holds a slot (work-table.ts): an agent at work does, a result being published does not.
  let work: WorkTable = EMPTY_WORK
  const workEvent = (event: WorkEvent): void => { work = workStep(work, event) }
  const skip = new Map<string, number>()
  // A lost claim waits before the same attempt is tried again; a newer attempt (the winner died
  // or released) is tried at once: a standby that lost to a holder killed since would otherwise
  // sit out up to 10 s while the task waits for it.
  const lostAttempt = new Map<string, number>()
  const skipping = (key: string, t: number): boolean => {
    if ((skip.get(key) ?? 0) <= t) return false
    const lost = lostAttempt.get(key)
    return lost === undefined || (ledger.task(key, t)?.nextAttempt ?? 0) <= lost
  }
  const wips = new Map<string, WipSource>()
  const seenPeers = new Set<string>()
  /** When a peer was last heard for the first time (or again after a disconnection). */
  let peerAppearedAt = Number.NEGATIVE_INFINITY
  const postings = createClaimPostings()
  let presenceSeq = 0
  let stopped: Promise<void> | undefined
  let resolveStopped: (() => void) | undefined
  const stoppedPromise = new Promise<void>((resolve) => { resolveStopped = resolve })

  const step = (event: LifecycleEvent): void => {
    const before = lifecycle.phase
    const { state, actions } = lifecycleStep(lifecycle, event)
    lifecycle = state
    // A drain with no work passes through `draining` within one step: say so all the same.
    if (event.type === 'drain' && before === 'running' && state.phase === 'stopping') emit('state', { phase: 'draining' })
    if (state.phase !== before) emit('state', { phase: state.phase })
    for (const action of actions) perform(action)
  }
  const perform = (action: LifecycleAction): void => {
    if (action === 'announce-draining') {
      own(() => { capabilities.setStatus('draining') })
      sendPresence().catch((err) => { fault('presence', err) })
      sendCapabilities().catch((err) => { fault('capabilities', err) })
    } else if (action === 'abort-work') {
      for (const a of active.values()) a.controller.abort(new Error('the node is stopping'))
    } else {
      stopped = stopComponents().then(() => { step({ type: 'stopped' }); resolveStopped?.() })
    }
  }

  // --- messages in and out ----------------------------------------------------------------------
  const record = async (message: Message, own: boolean): Promise<void> => {
    const at = now()
    const prevHolder = message.type === 'task_claim' ? ledger.task(`${message.repo ?? ''}${message.task_id}`, at)?.holder : undefined
    const sender = 'node_id' in message ? message.node_id : 'from_node' in message ? message.from_node : undefined
    // A replayed task message (catch-up) refreshes its sender's liveness but is no news: not logged or announced again.
    const known = ledger.hasMessage(message)
    const changed = ledger.observe(message, at)
    if (message.type === 'capabilities' && !own) handOff.learn(message)
    if (sender !== undefined && sender !== nodeId && !seenPeers.has(sender)) {
      seenPeers.add(sender)
      peerAppearedAt = now()
      emit('peer:seen', { nodeId: sender })
      catchUp.peerAppeared()
    }
    const entry = logEntryForMessage(message)
    // A new task message that may make a task claimable (an announcement, a release, help): plan
    // now, before logging it (a claim waits for nothing). A claim or a result makes none claimable:
    // the next plan leaves that task out (planning on every one of them, on every peer, grew with
    // the tasks in flight). Presence and capabilities (slots, liveness) are read by the next
    // tick's plan: planning on each of them costs O(peers²). Its own announcement too: the watcher
    // that announces a task may rank first for it (else it claimed at its next idle plan, a second on).
    if (changed && !known && entry !== undefined && mayMakeClaimable(message)) claims.poke()
    if (entry !== undefined && changed && !known) await log.append(entry.type, entry.payload)
    if ((!changed || known) && message.type !== 'meta_discussion') return
    describe(message, own, prevHolder)
  }
  const describe = (message: Message, own: boolean, prevHolder: Holder | undefined): void => {
    switch (message.type) {
      case 'task': {
        if ((message.action ?? 'open') !== 'open') break
        const { repo, issue } = parseTaskKey(`${message.repo}${message.task_id}`)
        emit('task:announced', { key: `${message.repo}${message.task_id}`, repo, issue, title: message.title, by: message.node_id })
        break
      }
      case 'task_claim': {
        const key = `${message.repo ?? ''}${message.task_id}`
        const self = message.node_id === nodeId
        const attempt = message.attempt ?? 1
        // A renewal (the holder's claim again, with a later lease) is no news.
        if (prevHolder?.node === message.node_id && prevHolder.attempt === attempt && prevHolder.state === (message.state ?? 'claimed') &&
          (message.claim_id === undefined || prevHolder.claimId === message.claim_id)) break
        if ((message.state ?? 'claimed') === 'claimed') {
          emit('task:claimed', { key, node: message.node_id, attempt, claimId: message.claim_id, self })
          if (attempt > 1) emit('task:takeover', { key, node: message.node_id, attempt, from: prevHolder?.node, self })
        } else if (message.state === 'running') {
          emit('task:running', { key, node: message.node_id, attempt, self })
        }
        break
      }
      case 'task_result':
        emit('task:result', {
          key: `${message.repo ?? ''}${message.task_id}`, node: message.node_id, type: message.result_type, url: message.result_url, attempt: message.attempt ?? 1, self: own
        })
        break
      case 'meta_discussion': {
        const key = `${message.repo ?? ''}${message.task_id}`
        const wip = parseWipNote(message.body)
        if (wip !== undefined) wips.set(key, wip)
        emit('task:note', { key, node: message.node_id, body: message.body })
        log.append('meta_note', { task: key, node: message.node_id, body: message.body.slice(0, 1024) }).catch((err) => { fault('log', err) })
        break
      }
      default:
        break
    }
  }
  let capabilitiesSentAt = Number.NEGATIVE_INFINITY
  // Whether the last capabilities reached a neighbour: those sent at start, before any connection
  // (or before the neighbours' subscriptions were known), reached nobody; while connected, they
  // go again each second until they do (else peers learn this node's addresses and login only a
  // capabilities period later).
  let capabilitiesHeard = false
  const catchUp: CatchUp = createCatchUp({
    delayMs: 300,
    minGapMs: Math.max(1000, timings.presenceMs),
    now,
    isOpen: (key) => {
      const status = ledger.task(key, now())?.status
      return status !== 'done' && status !== 'failed' && status !== 'withdrawn'
    },
    replay: async (messages) => {
      if (!mesh.isStarted() || crashed) return
      // Capabilities again only if a peer appeared since they last went out: a newcomer needs them
      // (a watcher hands tasks to peers by the addresses in them; with a long capabilities period
      // the peers up before it would be unreachable to it for that long). Peers joining together
      // are served by one replay each per gap, not one per newcomer.
      if (peerAppearedAt >= capabilitiesSentAt) await sendCapabilities()
      for (const { topic, message } of messages) await mesh.publish(topic, message as never)
    },
    fault: (err) => { fault('catch-up', err) }
  })
  /** Records and publishes a message of this node's own; resolves how many neighbours it went to (undefined: not sent). */
  const publishOwn = async <T extends Topic>(topic: T, message: TopicMessageMap[T]): Promise<number | undefined> => {
    if (crashed) return undefined
    await record(message, true)
    catchUp.authored(topic, message)
    if (message.type === 'task') {
      await handOff.announce(message)
      if (crashed) return undefined
    }
    if (!mesh.isStarted()) return undefined
    return (await mesh.publish(topic, message)).recipients
  }
  const publish = async <T extends Topic>(topic: T, message: TopicMessageMap[T]): Promise<void> => { await publishOwn(topic, message) }

  const sendPresence = async (): Promise<void> => {
    await publish('presence_ping', capabilities.toPresencePing({ activeTasks: [...active.keys()], seq: presenceSeq++, now: now() }))
  }
  const sendCapabilities = async (): Promise<void> => {
    capabilitiesSentAt = now()
    const message = capabilities.toMessage(now())
    // Where this node can be dialled: a watcher hands it the tasks it ranks first for.
    const addrs = mesh.isStarted() ? mesh.getMultiaddrs().slice(0, 16).map(String) : []
    const recipients = await publishOwn('capabilities', { ...message, ...(githubLogin !== undefined ? { github_login: githubLogin } : {}), ...(addrs.length > 0 ? { addrs } : {}) })
    capabilitiesHeard = (recipients ?? 0) > 0
  }
  let lastFree: number | undefined
  // Slots and status are this node's own news, and presence carries them: a capabilities message
  // on each change would go to every peer for every agent run started or ended (in a 100-peer
  // mesh, half of all messages). Only what the machine itself changes sends capabilities at once.
  let ownChange = false
  const own = (change: () => void): void => {
    ownChange = true
    try { change() } finally { ownChange = false }
  }
  const updateSlots = (): void => {
    const free = freeSlots(work, slots)
    own(() => {
      capabilities.setSlots(free, slots)
      if (lifecycle.phase === 'running') capabilities.setStatus(slotsInUse(work) > 0 ? 'busy' : 'idle')
    })
    // Tell the mesh at once when this node fills its slots or has one again: the others rank
    // claimers among the peers with a free slot (and see in active_tasks what it is claiming).
    if (lastFree !== undefined && (free === 0) !== (lastFree === 0) && mesh.isStarted() && !crashed) sendPresence().catch((err) => { fault('presence', err) })
    lastFree = free
  }

  // --- work -------------------------------------------------------------------------------------
  const help: HelpDesk = createHelpDesk({
    nodeId,
    ledger,
    now,
    publish,
    emit,
    offers: () => (executor?.offers ?? []),
    hasFreeSlot: () => canClaim(lifecycle) && freeSlots(work, slots) > 0,
    pollMs: Math.min(250, timings.tickMs)
  })
  const workerContext: WorkerContext = {
    nodeId,
    client,
    claimer: newClaimer,
    publisher,
    executor: executor ?? { run: async () => ({ kind: 'stopped', wipPushed: false }) },
    logger,
    workRoot,
    now,
    publish,
    emit,
    wipFor: (key) => wips.get(key),
    earlierHolders: (key, attempt) => {
      const t = now()
      return earlierHolderLogins(ledger.task(key, t)?.attempts ?? [], attempt, (node) => (node === nodeId ? githubLogin : ledger.peer(node, t)?.capabilities?.github_login))
    },
    askForHelp: async (req) => await help.ask(req)
  }

  const startWork = (key: string, attempt: number, announcement?: TaskBroadcastMessage, breaks?: number): Active => {
    const { repo, issue } = parseTaskKey(key)
    const controller = new AbortController()
    const started = workStep(work, { type: 'started', key }) // throws for a key this node works on already
    step({ type: 'work-started' })
    work = started
    const posted = postings.begin(key)
    // The agent has ended: its slot is free while the result is published (the claim's fence can
    // take a minute); the key stays this node's until the work ends. (A late call, after this
    // work ended, must not touch newer work on the same key.)
    let over = false
    const agentEnded = (): void => {
      if (over || work.get(key) !== 'running') return
      workEvent({ type: 'agent-ended', key })
      if (crashed) return
      updateSlots()
      claims.poke()
    }
    const entry: Active = {
      key,
      controller,
      done: Promise.resolve().then(async () => {
        return await runWork(workerContext, {
          key, repo, issue, attempt, announcement: announcement ?? ledger.task(key, now())?.announcement, signal: controller.signal, abrupt: () => crashed, agentEnded, onPosted: posted, ...(breaks !== undefined ? { breaks } : {})
        })
      }).catch((err: Error): WorkEnd => ({ end: 'error', error: err }))
        .then((end) => {
          lostAttempt.delete(key)
          if (end.end === 'lost') {
            skip.set(key, end.reason === 'completed' ? Infinity : now() + Math.min(end.retryAfterMs ?? Infinity, timings.leaseMs / 2, 10_000))
            if (end.reason !== 'completed') lostAttempt.set(key, attempt)
          }
          if (end.end === 'error') { fault('work', end.error, key); skip.set(key, now() + Math.min(timings.leaseMs / 2, 10_000)) }
          if (end.end === 'delegated' || end.end === 'released') skip.set(key, now() + Math.min(timings.leaseMs / 2, 10_000))
          return end
        })
        .finally(() => {
          over = true
          posted()
          active.delete(key)
          workEvent({ type: 'ended', key })
          updateSlots()
          claims.poke()
          if (!crashed && lifecycle.phase !== 'stopped') step({ type: 'work-ended' })
        })
    }
    active.set(key, entry)
    updateSlots()
    return entry
  }

  const warmUpMs = warmUpOf(timings)
  const warm = (): boolean => startedAt !== undefined && now() - startedAt >= warmUpMs

  const claimableSlots = (): number => (canClaim(lifecycle) && executor !== undefined && warm() && !crashed ? freeSlots(work, slots) : 0)
  const handOff: HandOff = createHandOff({
    nodeId, ledger, mesh, postings, now, freeSlots: claimableSlots, planNow: () => { claims.run() }, handOffMs: timings.handOffMs, log: logger
  })
  const claims: ClaimLoop = createClaimLoop({
    nodeId,
    ledger,
    now,
    standbyStepMs: timings.standbyStepMs,
    minGapMs: Math.min(50, timings.tickMs),
    idleEveryMs: Math.max(timings.tickMs, 1000),
    freeSlots: claimableSlots,
    skipped: (key, t) => active.has(key) || skipping(key, t),
    delegatedTo: (key) => help.acceptedHelper(key),
    start: (task, breaks, delegated) => {
      startWork(task.key, task.nextAttempt, undefined, breaks)
      if (delegated) emit('task:help', { key: task.key, role: 'taken', node: nodeId, capability: '' })
    }
  })

  const elect = (): void => {
    if (!warm() || crashed) return
    const t = now()
    const running = lifecycle.phase === 'running'
    for (const repo of repos) {
      const elected = running && ledger.watchers(repo, t).watcher === nodeId
      const w = watchers.get(repo)
      if (elected && w === undefined) {
        const watcher = createWatcher({
          client,
          node: nodeId,
          repos: [repo],
          intervalMs: timings.watchIntervalMs,
          ...(init.watch?.label !== undefined ? { label: init.watch.label } : {}),
          ...(init.watch?.trustedAssociations !== undefined ? { trustedAssociations: init.watch.trustedAssociations } : {}),
          ...(init.watch?.defaultModel !== undefined ? { defaultModel: init.watch.defaultModel } : {}),
          ...(init.watch?.overlapMs !== undefined ? { overlapMs: init.watch.overlapMs } : {})
        })
        watcher.on('task', (task) => { publish('task_broadcast', task).catch((err) => { fault('watcher', err) }) })
        watcher.on('error', (err) => { fault(`watcher:${repo}`, err) })
        watcher.start()
        watchers.set(repo, watcher)
        logger.info({ event: 'watcher:elected', repo }, 'elected watcher')
      } else if (!elected && w !== undefined) {
        watchers.delete(repo)
        w.stop().catch((err) => { fault('watcher', err) })
        logger.info({ event: 'watcher:stepped-down', repo }, 'no longer the watcher')
      }
    }
    for (const [repo, w] of watchers) {
      if (repos.includes(repo)) continue
      watchers.delete(repo)
      w.stop().catch((err) => { fault('watcher', err) })
    }
    if (watchers.size > 0) handOff.connectAhead()
  }

  let patterns: readonly string[] = [...(init.repos ?? [])]
  const refreshRepos = async (signal?: AbortSignal): Promise<void> => {
    const list = await expandRepos(client, patterns, signal !== undefined ? { signal } : {})
    const added = list.filter((r) => !repos.includes(r))
    repos = list
    if (added.length > 0) logger.info({ event: 'repos:added', repos: added }, 'watching more repositories')
  }

  const replicate = async (options: { signal?: AbortSignal } = {}): Promise<SyncResult[]> => {
    const out: SyncResult[] = []
    for (const peer of mesh.getPeers()) {
      try {
        out.push(...await replicator.sync(peer, options))
      } catch (err) {
        fault('replication', err)
      }
    }
    return out
  }

  const every = (ms: number, what: string, fn: () => Promise<void> | void, options: { spread?: boolean } = {}): void => {
    timers.push(periodic({ everyMs: ms, ...options }, () => {
      if (crashed) return
      Promise.resolve().then(fn).catch((err) => { fault(what, err) })
    }))
  }

  const stopComponents = async (): Promise<void> => {
    const t0 = now()
    catchUp.stop()
    for (const stop of timers.splice(0)) stop()
    claims.stop()
    help.stop()
    await Promise.all([...watchers.values()].map(async (w) => { await w.stop().catch(() => {}) }))
    watchers.clear()
    if (!crashed) await sendPresence().catch(() => {})
    await capabilities.stop().catch(() => {})
    await agentExecutor?.close().catch(() => {})
    await replicator.stop().catch(() => {})
    await mesh.stop().catch(() => {})
    store.close?.()
    logger.debug({ event: 'node:stopped', ms: now() - t0 }, 'components stopped')
  }

  const node = emitter as EventEmitter<NodeEvents> & BzzzNode
  Object.defineProperties(node, {
    nodeId: { value: nodeId, enumerable: true },
    name: { value: init.name, enumerable: true },
    mesh: { value: mesh },
    ledger: { value: ledger },
    log: { value: log },
    store: { value: store },
    client: { value: client },
    logger: { value: logger },
    timings: { value: Object.freeze({ ...timings }) },
    phase: { get: () => lifecycle.phase, enumerable: true }
  })

  node.start = async (options = {}) => {
    step({ type: 'start' })
    try {
      for (const topic of TOPICS) {
        mesh.subscribe(topic, async (message, meta) => {
          try {
            await record(message, false)
          } catch (err) {
            fault('record', err)
            return
          }
          // Handed here by its watcher: it tells the mesh once this node's claim is posted.
          if (meta.direct === true && message.type === 'task') await handOff.received(message)
        })
      }
      mesh.addEventListener('peer:leave', (evt) => {
        ledger.peerLeft(evt.detail.toString(), now())
        seenPeers.delete(evt.detail.toString())
      })
      // The work root, before any claim: a disk that refuses it fails the start, not each task.
      if (executor !== undefined) await mkdir(workRoot, { recursive: true })
      await capabilities.start(options)
      capabilities.onChange(() => { if (!ownChange && mesh.isStarted()) sendCapabilities().catch((err) => { fault('capabilities', err) }) })
      await mesh.start(options)
      await replicator.start(options)
      await refreshRepos(options.signal)
      githubLogin = await client.login(options)
      updateSlots()
      startedAt = now()
      step({ type: 'started' })
    } catch (err) {
      step({ type: 'failed' })
      await stopped
      throw err
    }
    await sendCapabilities()
    await sendPresence()
    // A stop or a drain that came during the two sends above has stopped the jobs already.
    if (crashed || lifecycle.phase !== 'running') return
    // Sent once now; then each at its own phase, so that peers started together do not send in step.
    every(timings.presenceMs, 'presence', sendPresence, { spread: true })
    every(timings.capabilitiesMs, 'capabilities', sendCapabilities, { spread: true })
    // Elections change with the live peers, which change at presence pace: looked at every fourth
    // tick or every second, whichever comes first, not on every tick (each look views every peer:
    // 100 peers in one process spent an eighth of their time there).
    const electEveryMs = Math.max(timings.tickMs, Math.min(1000, 4 * timings.tickMs))
    let electedAt = Number.NEGATIVE_INFINITY
    every(timings.tickMs, 'tick', () => {
      if (!capabilitiesHeard && now() - capabilitiesSentAt >= 1000 && mesh.isStarted() && mesh.getPeers().length > 0) sendCapabilities().catch((err) => { fault('capabilities', err) })
      if (now() - electedAt >= electEveryMs) { electedAt = now(); elect() }
      claims.tick()
    })
    every(timings.replicateMs, 'replication', async () => { await replicate() })
    every(timings.reposRefreshMs, 'repos', async () => { if (patterns.some((r) => r.endsWith('/*'))) await refreshRepos() })
    help.start()
  }

  node.drain = async (options = {}) => {
    if (lifecycle.phase === 'created') { step({ type: 'drain' }); return }
    step({ type: 'drain' })
    const timeoutMs = options.timeoutMs ?? timings.drainTimeoutMs
    const deadline = setTimeout(() => { if (lifecycle.phase === 'draining') step({ type: 'deadline' }) }, timeoutMs)
    const onAbort = (): void => { if (lifecycle.phase === 'draining') step({ type: 'deadline' }) }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await stoppedPromise
    } finally {
      clearTimeout(deadline)
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  node.stop = async (options = {}) => {
    await node.drain({ ...options, timeoutMs: 0 })
  }

  node.kill = async () => {
    if (crashed || lifecycle.phase === 'stopped') return
    crashed = true
    catchUp.stop()
    for (const a of active.values()) a.controller.abort(new Error('killed'))
    for (const stop of timers.splice(0)) stop()
    claims.stop()
    help.stop()
    for (const w of watchers.values()) await w.stop().catch(() => {})
    watchers.clear()
    await mesh.stop().catch(() => {})
    await replicator.stop().catch(() => {})
    await capabilities.stop().catch(() => {})
    await Promise.all([...active.values()].map(async (a) => await a.done))
    store.close?.()
    lifecycle = { ...lifecycle, phase: 'stopped', active: 0 }
    emit('state', { phase: 'stopped' })
    resolveStopped?.()
  }

  node.status = () => {
    const counts = client.requestCounts().total
    const head = log.head()
    return {
      nodeId,
      name: init.name,
      phase: lifecycle.phase,
      startedAt,
      repos: [...repos],
      watching: [...watchers.keys()],
      active: [...active.keys()],
      publishing: keysIn(work, 'publishing'),
      slots: { total: slots, free: freeSlots(work, slots) },
      peers: mesh.isStarted() ? mesh.getPeers().length : 0,
      addresses: mesh.isStarted() ? mesh.getMultiaddrs().map((a) => a.toString()) : [],
      log: { length: head.length, hash: head.hash },
      requests: { counted: counts.counted, notModified: counts.notModified }
    }
  }
  node.peers = () => ledger.peers(now())
  node.tasks = () => ledger.tasks(now())
  node.repos = () => [...repos]
  node.replicate = replicate
  node.verifyLogs = async (options = {}) => {
    const out: LogCheck[] = []
    for (const head of store.logHeads()) {
      try {
        const entries = store.logRange(head.author, 0, head.length)
        await verifyLog(head.author, entries, options)
        out.push({ author: head.author, length: head.length, ok: true })
      } catch (err) {
        const e = err as Error & { seq?: number, code?: string }
        out.push({ author: head.author, length: head.length, ok: false, error: { seq: e.seq ?? -1, code: e.code ?? e.name, message: e.message } })
      }
    }
    return out
  }
  node.setRepos = async (list, options = {}) => {
    patterns = [...list]
    await refreshRepos(options.signal)
    elect()
    return [...repos]
  }
  node.runTask = async (repo, issue, options = {}) => {
    const key = `${repo}#${issue}`
    const announcement = ledger.task(key, now())?.announcement ?? await announcementFor(client, repo, issue, nodeId, options)
    const a = startWork(key, options.attempt ?? ledger.task(key, now())?.nextAttempt ?? 1, announcement)
    const onAbort = (): void => { a.controller.abort(options.signal?.reason) }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      return await a.done
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
    }
  }
  return node
}

