import type {
  CapabilitiesMessage,
  Message,
  PeerStatus,
  PresencePingMessage,
  TaskHelpRequestMessage
} from '@bzzz/protocol'
import { canonicalJson, sha256Hex } from './canonical.js'
import { DEFAULT_HELP, decideHelp, helpRequestId, type HelpConfig, type HelperInfo, type HelpView } from './help.js'
import { deadSince, livenessAt, livenessConfig, InvalidConfigError, type Liveness, type LivenessConfig } from './liveness.js'
import { rendezvousRank } from './rendezvous.js'
import { satisfiesRequirements, type SatisfiesFn } from './requirements.js'
import { reduceTask, taskKey, timeOf, type TaskMessage, type TaskState } from './task.js'
import { assertMessage } from './message-guard.js'

/** Inserts `key` into the sorted array `keys` (no-op if present). */
function insertSorted (keys: string[], key: string): void {
  const i = lowerBound(keys, key)
  if (keys[i] !== key) keys.splice(i, 0, key)
}

function hasSorted (keys: readonly string[], key: string): boolean {
  return keys[lowerBound(keys, key)] === key
}

function lowerBound (keys: readonly string[], key: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (keys[mid]! < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Phases that no claim leaves: `openTasks` skips them. */
const FINISHED: ReadonlySet<TaskState['phase']> = new Set(['done', 'failed', 'withdrawn'])

/** What the ledger keeps about a peer; a join of everything heard from it. */
export interface PeerRecord {
  nodeId: string
  /** Local receive time (ms) of the first and the latest message from it. */
  firstHeardAt: number
  lastHeardAt: number
  /** When it said goodbye or its connection closed (`peerLeft`), if it has. */
  leftAt: number | undefined
  /** Its newest `capabilities` (by message timestamp). */
  capabilities: CapabilitiesMessage | undefined
  /** Its newest `presence_ping` (by message timestamp, then `seq`). */
  presence: PresencePingMessage | undefined
}

/** A peer as seen at a given time. */
export interface PeerView extends PeerRecord {
  liveness: Liveness
  /** When it is, or will be, dead if nothing more is heard. */
  deadSince: number
  /** From the newer of its presence and capabilities. */
  status: PeerStatus | undefined
  slotsFree: number | undefined
  /** Not draining, and a free slot (or, with no slot count, not busy). */
  hasFreeSlot: boolean
  activeTasks: readonly string[]
  /** CPU load in percent, from the newer of presence and capabilities. */
  load: number | undefined
}

export type TaskStatus = 'announced' | 'claimed' | 'running' | 'expired' | 'done' | 'failed' | 'withdrawn'

/** A task as seen at a given time. */
export interface TaskView extends TaskState {
  /** `phase` judged at `now`: a claim whose lease ran out or whose holder is dead is `expired`, as is a released one. */
  status: TaskStatus
  expiredBecause: 'lease' | 'holder-dead' | 'released' | undefined
  /** Whether peers should try to claim it now (announced, or expired and offered again). */
  claimable: boolean
  /** When it became claimable (ms): announcement time, lease end, holder's death, release. */
  offeredAt: number | undefined
  /** The attempt number the next claim must carry. */
  nextAttempt: number
}

/** Who should try to claim a task, and when. */
export interface ClaimPlan {
  key: string
  node: string
  /** Every eligible live peer, preferred claimer first. */
  candidates: string[]
  /** `node`'s place in `candidates`; -1 if it is not eligible. */
  rank: number
  claimable: boolean
  /** When `node` should claim if no valid claim has appeared: `offeredAt + rank * standbyStepMs`. */
  claimAt: number | undefined
  /** `claimable`, eligible, and `now >= claimAt`. */
  shouldClaim: boolean
  attempt: number
  /**
   * The GitHub claim to break: set when the task is offered again because its holder is dead
   * while its lease still runs. Pass it as the claim's `breaks` so that the takeover does not
   * wait for the lease (see @bzzz/github's claimer).
   */
  breaks: number | undefined
}

export interface WatcherElection {
  repo: string
  watcher: string | undefined
  standby: string | undefined
  order: string[]
}

/** Persistence behind the ledger (see `openStateStore`). Writes are synchronous and atomic. */
export interface LedgerStore {
  loadLedger(): { messages: Array<{ message: TaskMessage, receivedAt: number }>, peers: PeerRecord[] }
  saveLedger(change: { message?: { id: string, key: string, message: TaskMessage, receivedAt: number }, peer?: PeerRecord }): void
}

export interface LedgerInit {
  /** This peer's node id: it is always alive in its own view. */
  selfId?: string
  liveness?: Partial<LivenessConfig>
  /** Each standby claimer waits this much longer than the one before it (ms). Default 1500. */
  standbyStepMs?: number
  /** A lease counts as run out this long (ms) after `lease_expires`, for clock skew. Default 1000. */
  leaseGraceMs?: number
  help?: Partial<HelpConfig>
  /** Requirement matcher. Default `satisfiesRequirements`. */
  satisfies?: SatisfiesFn
  /** Where the ledger persists; without one it lives in memory only. */
  store?: LedgerStore
}

export interface Ledger {
  readonly config: Readonly<{ liveness: LivenessConfig, standbyStepMs: number, leaseGraceMs: number, help: HelpConfig }>
  /**
   * Takes in a message received at `receivedAt` (local ms). Returns `true` if it changed the
   * ledger (a new task message, or news of its sender), `false` for a pure duplicate.
   * With a store, the message is written before this returns: once it has returned, it survives a crash.
   */
  observe(message: Message, receivedAt: number): boolean
  /** Whether this task message is in the ledger already (a replay or a duplicate adds nothing to the task). */
  hasMessage(message: Message): boolean
  /** The peer left (a goodbye, or its last connection closed): dead until heard from again. */
  peerLeft(nodeId: string, at: number): void
  peer(nodeId: string, now: number): PeerView | undefined
  peers(now: number): PeerView[]
  task(key: string, now: number): TaskView | undefined
  tasks(now: number): TaskView[]
  /**
   * The tasks not done, failed or withdrawn (what a claim loop looks at), in the order of
   * `tasks`: as cheap with a thousand finished tasks in the ledger as with none.
   */
  openTasks(now: number): TaskView[]
  /**
   * The open tasks a peer may claim now (announced, or offered again: released, lease over,
   * holder dead), in the order of `tasks`: `openTasks(now)` filtered by `claimable`, without
   * the cost of viewing the tasks that someone holds.
   */
  claimableTasks(now: number): TaskView[]
  /** Who should try to claim `key`, `node`'s rank and when it should try. */
  claimPlan(key: string, node: string, now: number): ClaimPlan
  /** The elected watcher of `repo` and its standby, over the live (or suspect) peers not draining. */
  watchers(repo: string, now: number): WatcherElection
  /** The help requests of a task and what each requester should do now. */
  help(key: string, now: number): HelpView[]
  /**
   * `nodeId` equivocated: it signed two different entries at one sequence number of its log
   * (the log replicator's `equivocation` event). From now on `observe` discounts its messages.
   */
  markEquivocating(nodeId: string): void
  /** The nodes marked equivocating. */
  equivocating(): string[]
}

interface TaskGroup { messages: Map<string, TaskMessage> }

function isTaskMessage (m: Message): m is TaskMessage {
  return m.type === 'task' || m.type === 'task_claim' || m.type === 'task_result' ||
    m.type === 'task_help_request' || m.type === 'task_help_response'
}

function senderOf (m: Message): string | undefined {
  if ('node_id' in m) return m.node_id
  if ('from_node' in m) return m.from_node
  return undefined
}

function newer<T extends { timestamp: string }> (a: T | undefined, b: T, seq?: (m: T) => number): T {
  if (a === undefined) return b
  const d = timeOf(b.timestamp) - timeOf(a.timestamp)
  if (d !== 0) return d > 0 ? b : a
  if (seq !== undefined && seq(a) !== seq(b)) return seq(b) > seq(a) ? b : a
  return canonicalJson(b) > canonicalJson(a) ? b : a
}

class LedgerImpl implements Ledger {
  readonly config: Ledger['config']
  private readonly selfId: string | undefined
  private readonly satisfies: SatisfiesFn
  private readonly store: LedgerStore | undefined
  private readonly peerRecords = new Map<string, PeerRecord>()
  /** The known peer ids in order, made again only when a peer is first heard of. */
  private peerIds: string[] | undefined
  /**
   * Each record's last view: a record is replaced (never changed) when anything about the peer
   * changes, and its view depends on the time only through its liveness. Every plan on every
   * peer views every peer; in a 100-peer mesh that was most of a plan.
   */
  private readonly peerViews = new WeakMap<PeerRecord, PeerView>()
  /** Each task message object's id (see `messageId`). */
  private readonly messageIds = new WeakMap<TaskMessage, string>()
  /** Per repository: the last watcher order and the candidates it was computed for. */
  private readonly watchOrders = new Map<string, { signature: string, order: string[] }>()
  private readonly groups = new Map<string, TaskGroup>()
  private readonly reposByTaskId = new Map<string, Set<string>>()
  private readonly cache = new Map<string, TaskState>()
  /** `taskKeys()`, until a task or a repository of a task id is new. */
  private sortedKeys: string[] | undefined
  /** The keys of `taskKeys()` whose tasks were open when last read, in the same order; `undefined`: work them out again. */
  private openKeys: string[] | undefined

  constructor (init: LedgerInit) {
    const standbyStepMs = init.standbyStepMs ?? 1500
    const leaseGraceMs = init.leaseGraceMs ?? 1000
    if (!Number.isFinite(standbyStepMs) || standbyStepMs < 0) throw new InvalidConfigError('standbyStepMs', 'must be a non-negative number')
    if (!Number.isFinite(leaseGraceMs) || leaseGraceMs < 0) throw new InvalidConfigError('leaseGraceMs', 'must be a non-negative number')
    const help = { ...DEFAULT_HELP, ...init.help }
    if (!(help.collectMs >= 0) || !(help.timeoutMs >= help.collectMs)) throw new InvalidConfigError('help', 'needs 0 <= collectMs <= timeoutMs')
    this.config = Object.freeze({ liveness: livenessConfig(init.liveness), standbyStepMs, leaseGraceMs, help })
    this.selfId = init.selfId
    this.satisfies = init.satisfies ?? satisfiesRequirements
    this.store = init.store
    if (this.store !== undefined) {
      const { messages, peers } = this.store.loadLedger()
      for (const p of peers) this.peerRecords.set(p.nodeId, p)
      for (const { message } of messages) this.addTaskMessage(sha256Hex(canonicalJson(message)), message)
    }
  }

  private readonly equivocators = new Set<string>()

  markEquivocating (nodeId: string): void {
    this.equivocators.add(nodeId)
  }

  equivocating (): string[] {
    return [...this.equivocators].sort()
  }

  observe (message: Message, receivedAt: number): boolean {
    assertMessage(message, 'ledger.observe')
    const sender = senderOf(message)
    if (sender !== undefined && this.equivocators.has(sender)) return false
    let peer: PeerRecord | undefined
    let changed = false
    if (sender !== undefined) {
      const prev = this.peerRecords.get(sender)
      peer = prev === undefined
        ? { nodeId: sender, firstHeardAt: receivedAt, lastHeardAt: receivedAt, leftAt: undefined, capabilities: undefined, presence: undefined }
        : { ...prev, firstHeardAt: Math.min(prev.firstHeardAt, receivedAt), lastHeardAt: Math.max(prev.lastHeardAt, receivedAt) }
      if (message.type === 'capabilities') peer.capabilities = newer(peer.capabilities, message)
      if (message.type === 'presence_ping') peer.presence = newer(peer.presence, message, (m) => m.seq ?? 0)
      // `newer` returns one of its arguments, so comparing the messages by reference is enough
      // (serialising the record twice per message was most of the ledger's cost in a large mesh).
      changed = prev === undefined || prev.firstHeardAt !== peer.firstHeardAt || prev.lastHeardAt !== peer.lastHeardAt ||
        prev.capabilities !== peer.capabilities || prev.presence !== peer.presence
    }
    let entry: { id: string, key: string, message: TaskMessage, receivedAt: number } | undefined
    if (isTaskMessage(message)) {
      const id = this.messageId(message)
      const key = taskKey(message.repo, message.task_id)
      if (!this.groups.get(key)?.messages.has(id)) entry = { id, key, message, receivedAt }
    }
    if (!changed && entry === undefined) return false
    // Persist first: what `observe` acknowledged by returning is on disk.
    this.store?.saveLedger({ ...(entry !== undefined ? { message: entry } : {}), ...(changed && peer !== undefined ? { peer } : {}) })
    if (changed && peer !== undefined) {
      if (!this.peerRecords.has(peer.nodeId)) this.peerIds = undefined
      this.peerRecords.set(peer.nodeId, peer)
    }
    if (entry !== undefined) this.addTaskMessage(entry.id, entry.message)
    return true
  }

  hasMessage (message: Message): boolean {
    if (!isTaskMessage(message)) return false
    return this.groups.get(taskKey(message.repo, message.task_id))?.messages.has(this.messageId(message)) === true
  }

  /** A task message's id, the hash of its canonical JSON: once per message object (a node asks `hasMessage`, then `observe`). */
  private messageId (message: TaskMessage): string {
    let id = this.messageIds.get(message)
    if (id === undefined) {
      id = sha256Hex(canonicalJson(message))
      this.messageIds.set(message, id)
    }
    return id
  }

  peerLeft (nodeId: string, at: number): void {
    const prev = this.peerRecords.get(nodeId)
    if (prev === undefined || (prev.leftAt !== undefined && prev.leftAt >= at)) return
    const peer = { ...prev, leftAt: at }
    this.store?.saveLedger({ peer })
    this.peerRecords.set(nodeId, peer)
  }

  private addTaskMessage (id: string, message: TaskMessage): void {
    const key = taskKey(message.repo, message.task_id)
    let group = this.groups.get(key)
    if (group === undefined) {
      group = { messages: new Map() }
      this.groups.set(key, group)
      this.keyAdded(key, message.repo !== undefined)
    }
    group.messages.set(id, message)
    this.forget(key)
    this.forget(message.task_id) // a repo-less group of this id may fold in or out
    if (message.repo !== undefined) {
      let repos = this.reposByTaskId.get(message.task_id)
      if (repos === undefined) {
        repos = new Set()
        this.reposByTaskId.set(message.task_id, repos)
      }
      if (!repos.has(message.repo)) {
        repos.add(message.repo)
        // Whether a repo-less group of this id folds into a repository's task changes with this set.
        if (this.groups.has(message.task_id)) { this.sortedKeys = undefined; this.openKeys = undefined }
        for (const r of repos) this.forget(taskKey(r, message.task_id))
      }
    } else {
      for (const r of this.reposByTaskId.get(message.task_id) ?? []) this.forget(taskKey(r, message.task_id))
    }
  }

  /** A new task group: a task of a repository joins the sorted keys (and the open ones) in place. */
  private keyAdded (key: string, ofRepo: boolean): void {
    if (!ofRepo || this.sortedKeys === undefined) { this.sortedKeys = undefined; this.openKeys = undefined; return }
    insertSorted(this.sortedKeys, key)
    if (this.openKeys !== undefined) insertSorted(this.openKeys, key)
  }

  /**
   * Messages without `repo` (the design's samples) belong to the one task of that `task_id`
   * when exactly one repository has it; otherwise they stay a task of their own, keyed by
   * the bare `task_id`. Deterministic in the set of messages.
   */
  private taskKeys (): readonly string[] {
    if (this.sortedKeys !== undefined) return this.sortedKeys
    const keys: string[] = []
    for (const [key, group] of this.groups) {
      const any = group.messages.values().next().value
      if (any === undefined) continue
      if (any.repo !== undefined || (this.reposByTaskId.get(key)?.size ?? 0) !== 1) keys.push(key)
    }
    this.sortedKeys = keys.sort()
    return this.sortedKeys
  }

  private state (key: string): TaskState | undefined {
    const cached = this.cache.get(key)
    if (cached !== undefined) return cached
    const group = this.groups.get(key)
    const first = group?.messages.values().next().value
    let messages: TaskMessage[] = group !== undefined ? [...group.messages.values()] : []
    if (first?.repo !== undefined) {
      const orphans = this.groups.get(first.task_id)
      if (orphans !== undefined && this.reposByTaskId.get(first.task_id)?.size === 1) messages = messages.concat([...orphans.messages.values()])
    } else if (first !== undefined && (this.reposByTaskId.get(key)?.size ?? 0) === 1) {
      return undefined // folded into its repository's task
    }
    if (messages.length === 0) return undefined
    const state = reduceTask(key, messages)
    this.cache.set(key, state)
    return state
  }

  peer (nodeId: string, now: number): PeerView | undefined {
    const r = this.peerRecords.get(nodeId)
    return r === undefined ? undefined : this.viewPeer(r, now)
  }

  peers (now: number): PeerView[] {
    this.peerIds ??= [...this.peerRecords.keys()].sort((a, b) => (a < b ? -1 : 1))
    return this.peerIds.map((id) => this.viewPeer(this.peerRecords.get(id)!, now))
  }

  /** The view of a record at `now`: the last one made, while the peer's liveness is the same (views are frozen: shared). */
  private viewPeer (r: PeerRecord, now: number): PeerView {
    const liveness = r.nodeId === this.selfId ? 'alive' : livenessAt(r.lastHeardAt, now, this.config.liveness, r.leftAt)
    const last = this.peerViews.get(r)
    if (last !== undefined && last.liveness === liveness) return last
    const view = Object.freeze(this.makePeerView(r, liveness))
    this.peerViews.set(r, view)
    return view
  }

  private makePeerView (r: PeerRecord, liveness: Liveness): PeerView {
    const cfg = this.config.liveness
    const self = r.nodeId === this.selfId
    const p = r.presence
    const c = r.capabilities
    const presenceNewer = p !== undefined && (c === undefined || timeOf(p.timestamp) >= timeOf(c.timestamp))
    const status = presenceNewer ? p.status : (c?.status ?? p?.status)
    const slotsFree = presenceNewer ? (p.slots_free ?? c?.slots_free) : (c?.slots_free ?? p?.slots_free)
    const load = presenceNewer ? p.load.cpu : (c?.cpu ?? p?.load.cpu)
    const hasFreeSlot = status !== 'draining' && (slotsFree !== undefined ? slotsFree > 0 : status !== 'busy')
    return {
      ...r,
      liveness,
      deadSince: self ? Number.POSITIVE_INFINITY : deadSince(r.lastHeardAt, cfg, r.leftAt),
      status,
      slotsFree,
      hasFreeSlot,
      activeTasks: p?.active_tasks ?? [],
      load
    }
  }

  task (key: string, now: number): TaskView | undefined {
    const s = this.state(key)
    return s === undefined ? undefined : this.viewTask(s, now)
  }

  tasks (now: number): TaskView[] {
    const out: TaskView[] = []
    for (const key of this.taskKeys()) {
      const s = this.state(key)
      if (s !== undefined) out.push(this.viewTask(s, now))
    }
    return out
  }

  openTasks (now: number): TaskView[] {
    return this.openStates().map((s) => this.viewTask(s, now))
  }

  claimableTasks (now: number): TaskView[] {
    const out: TaskView[] = []
    for (const s of this.openStates()) {
      // A held task (most open tasks in a busy mesh) is passed over without a view.
      if (s.announcement === undefined || ((s.phase === 'claimed' || s.phase === 'running') && this.expiry(s, now) === undefined)) continue
      const view = this.viewTask(s, now)
      if (view.claimable) out.push(view)
    }
    return out
  }

  /** The open tasks' states, in key order. */
  private openStates (): TaskState[] {
    // Only the keys that were open when last looked at: a peer plans on every task message, and
    // the finished tasks of a long run must not make each plan longer.
    this.openKeys ??= this.taskKeys().filter((key) => this.isOpen(this.state(key)))
    const out: TaskState[] = []
    let closed = false
    for (const key of this.openKeys) {
      const s = this.state(key)
      if (this.isOpen(s)) out.push(s)
      else closed = true
    }
    if (closed) this.openKeys = this.openKeys.filter((key) => this.isOpen(this.state(key)))
    return out
  }

  private isOpen (s: TaskState | undefined): s is TaskState {
    return s !== undefined && !FINISHED.has(s.phase)
  }

  /**
   * Drops a task's cached state. A task that was finished, or whose state was not known, may be
   * open after the message at hand: the open keys are worked out again.
   */
  private forget (key: string): void {
    const was = this.cache.get(key)
    if (was === undefined && !this.groups.has(key)) return
    this.cache.delete(key)
    if (!this.isOpen(was) && this.openKeys !== undefined && !hasSorted(this.openKeys, key)) this.openKeys = undefined
  }

  private viewTask (s: TaskState, now: number): TaskView {
    let status: TaskStatus
    let expiredBecause: TaskView['expiredBecause']
    let offeredAt: number | undefined
    const h = s.holder
    if (s.phase === 'claimed' || s.phase === 'running') {
      status = s.phase
      const expired = this.expiry(s, now)
      if (expired !== undefined) { status = 'expired'; expiredBecause = expired.because; offeredAt = expired.at }
    } else if (s.phase === 'released') {
      status = 'expired'; expiredBecause = 'released'; offeredAt = h?.releasedAt
    } else {
      status = s.phase
      if (s.phase === 'announced' && s.announcement !== undefined) offeredAt = timeOf(s.announcement.timestamp)
    }
    const claimable = s.announcement !== undefined && (status === 'announced' || status === 'expired')
    return {
      ...s,
      status,
      expiredBecause,
      claimable,
      offeredAt: claimable ? offeredAt : undefined,
      nextAttempt: s.attempt === 0 ? 1 : s.attempt + (status === 'expired' ? 1 : 0)
    }
  }

  /** Why and since when a claimed or running task's claim no longer holds: its lease ran out, or its holder is dead. */
  private expiry (s: TaskState, now: number): { because: 'lease' | 'holder-dead', at: number } | undefined {
    const h = s.holder
    const leaseEnd = h?.leaseExpiresAt !== undefined ? h.leaseExpiresAt + this.config.leaseGraceMs : undefined
    const holderDeadAt = h !== undefined ? this.deadAt(h.node, now) : undefined
    if (leaseEnd !== undefined && now >= leaseEnd && (holderDeadAt === undefined || leaseEnd <= holderDeadAt)) return { because: 'lease', at: leaseEnd }
    if (holderDeadAt !== undefined) return { because: 'holder-dead', at: holderDeadAt }
    return undefined
  }

  /** Since when a peer is dead, if it is at `now` (this node never is): `peer(id, now)`'s `deadSince`, without the rest of the view. */
  private deadAt (nodeId: string, now: number): number | undefined {
    const r = this.peerRecords.get(nodeId)
    if (r === undefined || r.nodeId === this.selfId) return undefined
    const cfg = this.config.liveness
    return livenessAt(r.lastHeardAt, now, cfg, r.leftAt) === 'dead' ? deadSince(r.lastHeardAt, cfg, r.leftAt) : undefined
  }

  claimPlan (key: string, node: string, now: number): ClaimPlan {
    const view = this.task(key, now)
    const requirements = view?.announcement?.requirements
    const candidates = view === undefined
      ? []
      : rendezvousRank(key, this.peers(now).filter((p) =>
        p.liveness === 'alive' && p.hasFreeSlot &&
        (requirements === undefined || (p.capabilities !== undefined && this.satisfies(p.capabilities, requirements)))
      ).map((p) => p.nodeId))
    const rank = candidates.indexOf(node)
    const claimable = view?.claimable === true
    const claimAt = claimable && rank >= 0 && view.offeredAt !== undefined ? view.offeredAt + rank * this.config.standbyStepMs : undefined
    return {
      key,
      node,
      candidates,
      rank,
      claimable,
      claimAt,
      shouldClaim: claimAt !== undefined && now >= claimAt,
      attempt: view?.nextAttempt ?? 1,
      breaks: claimable && view.expiredBecause === 'holder-dead' ? view.holder?.claimId : undefined
    }
  }

  watchers (repo: string, now: number): WatcherElection {
    const ids = this.peers(now).filter((p) => p.liveness !== 'dead' && p.status !== 'draining').map((p) => p.nodeId)
    // The order only changes with the set of candidates (a node asks on every tick; a hash per peer).
    const signature = ids.join(',')
    let kept = this.watchOrders.get(repo)
    if (kept?.signature !== signature) {
      kept = { signature, order: rendezvousRank(`watch:${repo}`, ids) }
      this.watchOrders.set(repo, kept)
    }
    const order = [...kept.order]
    return { repo, watcher: order[0], standby: order[1], order }
  }

  help (key: string, now: number): HelpView[] {
    const s = this.state(key)
    if (s === undefined) return []
    const byId = new Map<string, TaskHelpRequestMessage[]>()
    const idless = s.helpRequests.filter((r) => r.request_id === undefined && r.accepted_node === undefined)
    for (const r of s.helpRequests) {
      let id = helpRequestId(r)
      if (r.request_id === undefined && r.accepted_node !== undefined) {
        // Without a request_id, an acceptance (sent later, so with a later timestamp) answers
        // the requester's latest id-less request at or before it; otherwise it would stand
        // alone and leave that request `matched` for ever.
        const at = timeOf(r.timestamp)
        let target: TaskHelpRequestMessage | undefined
        for (const q of idless) {
          const t = timeOf(q.timestamp)
          if (q.from_node === r.from_node && t <= at && (target === undefined || t > timeOf(target.timestamp))) target = q
        }
        if (target !== undefined) id = helpRequestId(target)
      }
      byId.set(id, [...(byId.get(id) ?? []), r])
    }
    const info = (node: string): HelperInfo | undefined => {
      const p = this.peer(node, now)
      return p === undefined ? undefined : { alive: p.liveness === 'alive', capabilities: p.capabilities, load: p.load }
    }
    return [...byId.keys()].sort().map((id) =>
      decideHelp(byId.get(id)!, s.helpResponses, now, this.config.help, info, this.satisfies))
  }
}

/**
 * Creates a ledger: the peer's view of the mesh as a function of the messages it has seen
 * and the time it is asked about. Nothing in it reads a clock; every query takes `now`.
 */
export function createLedger (init: LedgerInit = {}): Ledger {
  return new LedgerImpl(init)
}
