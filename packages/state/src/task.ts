import { parseTimestamp } from '@bzzz/protocol'
import type {
  TaskBroadcastMessage,
  TaskClaimMessage,
  TaskHelpRequestMessage,
  TaskHelpResponseMessage,
  TaskResultMessage
} from '@bzzz/protocol'
import { canonicalJson } from './canonical.js'

/** The messages that concern one task. */
export type TaskMessage =
  | TaskBroadcastMessage
  | TaskClaimMessage
  | TaskResultMessage
  | TaskHelpRequestMessage
  | TaskHelpResponseMessage

/** `<repo><task_id>`, e.g. `example-org/task-repo#42`; the bare `task_id` when there is no repo. */
export function taskKey (repo: string | undefined, taskId: string): string {
  return repo === undefined ? taskId : `${repo}${taskId}`
}

export type ClaimState = 'claimed' | 'running' | 'released'

/** The peer that holds (or last held) the task in its current attempt. */
export interface Holder {
  node: string
  attempt: number
  /** The GitHub claim comment id, when the claim said. */
  claimId: number | undefined
  state: ClaimState
  /** The latest lease the holder announced (ms since the epoch); undefined if none. */
  leaseExpiresAt: number | undefined
  /** The time of its first claim message in this attempt. */
  claimedAt: number
  /** The time of its `released` message, if it released the task. */
  releasedAt: number | undefined
  /** Why it released (the `reason` of its earliest `released` message), if it said. */
  releaseReason: string | undefined
  /** The GitHub claim it broke (its holder was held dead), if it took over by a break. */
  breaks: number | undefined
}

/** A claim that broke another one: its holder was held dead while its lease still ran. */
export interface BreakRecord {
  node: string
  attempt: number
  claimId: number | undefined
  /** The claim id it broke. */
  broke: number
}

/** One attempt at the task: who held it and how it ended. */
export interface AttemptRecord {
  attempt: number
  holder: string | undefined
  claimId: number | undefined
  /**
   * `broken`: a later claim broke it; `released`: its holder released it (see `reason`);
   * `superseded`: a later attempt started (its lease ran out, or its holder died);
   * undefined: the current attempt.
   */
  ended: 'broken' | 'released' | 'superseded' | undefined
  reason: string | undefined
}

/** A claim that lost to the holder's (a higher claim id, or a later one without ids). */
export interface LostClaim {
  node: string
  attempt: number
  claimId: number | undefined
}

/**
 * What the messages alone say about a task, whatever the time: a deterministic function of
 * the SET of messages (their order and duplicates make no difference).
 */
export interface TaskState {
  key: string
  repo: string | undefined
  taskId: string
  /** The newest announcement (highest `revision`, then latest `timestamp`). */
  announcement: TaskBroadcastMessage | undefined
  /** `withdrawn`: the newest announcement withdraws it; `released`: every live claim was released. */
  phase: 'announced' | 'claimed' | 'running' | 'released' | 'done' | 'failed' | 'withdrawn'
  /** The current attempt: the highest attempt any claim carried; 0 before the first claim. */
  attempt: number
  holder: Holder | undefined
  lostClaims: LostClaim[]
  /** Every break, by attempt, then claim id, then node. */
  breaks: BreakRecord[]
  /** Every attempt, oldest first. */
  attempts: AttemptRecord[]
  /** The deciding result (a success beats a failure; then the higher attempt). */
  result: TaskResultMessage | undefined
  helpRequests: TaskHelpRequestMessage[]
  helpResponses: TaskHelpResponseMessage[]
}

const TYPE_RANK: Record<TaskMessage['type'], number> = {
  task: 0,
  task_claim: 1,
  task_help_request: 2,
  task_help_response: 3,
  task_result: 4
}

const CLAIM_RANK: Record<ClaimState, number> = { claimed: 0, running: 1, released: 2 }

// The ledger's views read the same few timestamps over and over (every peer's newest presence,
// on every plan): parsed once, remembered. Emptied when it grows past a bound.
const parsedTimes = new Map<string, number>()
const PARSED_TIMES_MAX = 16_384

/** Milliseconds of an RFC 3339 time (messages are validated; a bad one sorts first). */
export function timeOf (ts: string): number {
  let t = parsedTimes.get(ts)
  if (t === undefined) {
    t = parseTimestamp(ts) ?? Number.NEGATIVE_INFINITY
    if (parsedTimes.size >= PARSED_TIMES_MAX) parsedTimes.clear()
    parsedTimes.set(ts, t)
  }
  return t
}

function senderOf (m: TaskMessage): string {
  return m.type === 'task_help_request' || m.type === 'task_help_response' ? m.from_node : (m.node_id ?? '')
}

interface Keyed { m: TaskMessage, t: number, c: string }

/**
 * The total order every peer sorts a task's messages by: time, then type (announce, claim,
 * help, result), then sender, then canonical JSON. Exported for tests and the docs.
 */
export function compareTaskMessages (a: TaskMessage, b: TaskMessage): number {
  return compareKeyed(keyed(a), keyed(b))
}

function keyed (m: TaskMessage): Keyed { return { m, t: timeOf(m.timestamp), c: canonicalJson(m) } }

function cmp (a: string | number, b: string | number): number { return a < b ? -1 : a > b ? 1 : 0 }

function compareKeyed (a: Keyed, b: Keyed): number {
  return cmp(a.t, b.t) || cmp(TYPE_RANK[a.m.type], TYPE_RANK[b.m.type]) || cmp(senderOf(a.m), senderOf(b.m)) || cmp(a.c, b.c)
}

interface NodeClaim {
  node: string
  state: ClaimState
  claimId: number | undefined
  leaseExpiresAt: number | undefined
  claimedAt: number
  releasedAt: number | undefined
  releaseReason: string | undefined
  breaks: number | undefined
}

function byClaimPrecedence (a: NodeClaim, b: NodeClaim): number {
  return cmp(a.claimId ?? Number.POSITIVE_INFINITY, b.claimId ?? Number.POSITIVE_INFINITY) ||
    cmp(a.claimedAt, b.claimedAt) || cmp(a.node, b.node)
}

/**
 * Reduces the messages of one task to its state. Deterministic in the set of messages:
 * they are de-duplicated and sorted by `compareTaskMessages` first, and every rule below
 * is a maximum or a minimum, so no order or repetition can change the answer.
 *
 * - Announcement: the highest (`revision`, `timestamp`, canonical JSON).
 * - Attempt: the highest `attempt` among claims (absent = 1).
 * - Holder: among the nodes that claimed in that attempt and have not released it, the one
 *   with the lowest claim id (claims without id after those with one), then the earliest
 *   claim, then the lowest node id — GitHub's rule: the live claim with the lowest comment id.
 *   Its state is the furthest it announced (claimed < running < released) and its lease the
 *   latest it announced. The other claimants of the attempt are `lostClaims`. A claim named
 *   by another claim's `breaks` (with a higher claim id) no longer counts; a broken holder
 *   reads as `released` with reason `broken`.
 * - Breaks and attempts: every break; each attempt's holder and how it ended. All are
 *   unions over the set, so order and repetition change nothing.
 * - Result: any `task_result` ends the task: `done` when one is a pull request or issue,
 *   otherwise `failed`.
 * - Withdrawn: the newest announcement says `withdraw` and there is no result.
 */
export function reduceTask (key: string, messages: Iterable<TaskMessage>): TaskState {
  const unique = new Map<string, Keyed>()
  for (const m of messages) {
    const k = keyed(m)
    unique.set(k.c, k)
  }
  const sorted = [...unique.values()].sort(compareKeyed)

  let repo: string | undefined
  let taskId = key
  let announcement: Keyed | undefined
  let attempt = 0
  const claims: Array<{ k: Keyed, m: TaskClaimMessage, attempt: number }> = []
  let result: Keyed | undefined
  const helpRequests: TaskHelpRequestMessage[] = []
  const helpResponses: TaskHelpResponseMessage[] = []

  for (const k of sorted) {
    const m = k.m
    taskId = m.task_id
    if (m.repo !== undefined) repo = m.repo
    switch (m.type) {
      case 'task':
        if (announcement === undefined || compareAnnouncements(k, announcement) > 0) announcement = k
        break
      case 'task_claim': {
        const a = m.attempt ?? 1
        if (a > attempt) attempt = a
        claims.push({ k, m, attempt: a })
        break
      }
      case 'task_result':
        if (result === undefined || compareResults(k, result) > 0) result = k
        break
      case 'task_help_request': helpRequests.push(m); break
      case 'task_help_response': helpResponses.push(m); break
    }
  }

  // Claims named by a break no longer count (GitHub's rule: a broken claim is not live).
  const broken = new Set<number>()
  const breaks: BreakRecord[] = []
  for (const { m, attempt: a } of claims) {
    if (m.breaks === undefined) continue
    if (m.claim_id === undefined || m.breaks < m.claim_id) broken.add(m.breaks)
    if (!breaks.some((b) => b.node === m.node_id && b.attempt === a && b.broke === m.breaks && b.claimId === m.claim_id)) {
      breaks.push({ node: m.node_id, attempt: a, claimId: m.claim_id, broke: m.breaks })
    }
  }
  breaks.sort((x, y) => cmp(x.attempt, y.attempt) || cmp(x.claimId ?? Infinity, y.claimId ?? Infinity) || cmp(x.node, y.node) || cmp(x.broke, y.broke))

  const holderOf = (attemptNo: number): { chosen: NodeClaim | undefined, nodes: NodeClaim[], live: NodeClaim[] } => {
    const perNode = new Map<string, NodeClaim>()
    for (const { k, m, attempt: a } of claims) {
      if (a !== attemptNo) continue
      const state: ClaimState = m.state ?? 'claimed'
      const lease = m.lease_expires !== undefined ? timeOf(m.lease_expires) : undefined
      const prev = perNode.get(m.node_id)
      if (prev === undefined) {
        perNode.set(m.node_id, {
          node: m.node_id,
          state,
          claimId: m.claim_id,
          leaseExpiresAt: lease,
          claimedAt: k.t,
          releasedAt: state === 'released' ? k.t : undefined,
          releaseReason: state === 'released' ? m.reason : undefined,
          breaks: m.breaks
        })
      } else {
        if (CLAIM_RANK[state] > CLAIM_RANK[prev.state]) prev.state = state
        if (m.claim_id !== undefined && (prev.claimId === undefined || m.claim_id < prev.claimId)) prev.claimId = m.claim_id
        if (lease !== undefined && (prev.leaseExpiresAt === undefined || lease > prev.leaseExpiresAt)) prev.leaseExpiresAt = lease
        if (m.breaks !== undefined && (prev.breaks === undefined || m.breaks < prev.breaks)) prev.breaks = m.breaks
        // Sorted by time: the first message seen is the earliest, the first release the earliest release.
        if (state === 'released' && prev.releasedAt === undefined) { prev.releasedAt = k.t; prev.releaseReason = m.reason }
      }
    }
    const nodes = [...perNode.values()].sort(byClaimPrecedence)
    const live = nodes.filter((n) => n.state !== 'released' && (n.claimId === undefined || !broken.has(n.claimId)))
    return { chosen: live[0] ?? nodes[0], nodes, live }
  }

  const { chosen, live } = holderOf(attempt)
  const holder: Holder | undefined = chosen === undefined
    ? undefined
    : {
        node: chosen.node,
        attempt,
        claimId: chosen.claimId,
        state: live.length === 0 && chosen.claimId !== undefined && broken.has(chosen.claimId) ? 'released' : chosen.state,
        leaseExpiresAt: chosen.leaseExpiresAt,
        claimedAt: chosen.claimedAt,
        releasedAt: chosen.state === 'released' ? chosen.releasedAt : undefined,
        releaseReason: chosen.state === 'released' ? chosen.releaseReason : (chosen.claimId !== undefined && broken.has(chosen.claimId) ? 'broken' : undefined),
        breaks: chosen.breaks
      }
  const lostClaims: LostClaim[] = live.filter((n) => n !== chosen).map((n) => ({ node: n.node, attempt, claimId: n.claimId }))

  const attemptNos = [...new Set(claims.map((c) => c.attempt))].sort((x, y) => x - y)
  const attempts: AttemptRecord[] = attemptNos.map((n) => {
    const h = n === attempt ? chosen : holderOf(n).chosen
    const wasBroken = h?.claimId !== undefined && broken.has(h.claimId)
    const ended: AttemptRecord['ended'] = wasBroken ? 'broken' : h?.state === 'released' ? 'released' : n < attempt ? 'superseded' : undefined
    return { attempt: n, holder: h?.node, claimId: h?.claimId, ended, reason: wasBroken ? 'broken' : h?.state === 'released' ? h.releaseReason : undefined }
  })

  const a = announcement?.m as TaskBroadcastMessage | undefined
  let phase: TaskState['phase']
  const r = result?.m as TaskResultMessage | undefined
  if (r !== undefined) phase = r.result_type === 'failure' ? 'failed' : 'done'
  else if (a?.action === 'withdraw') phase = 'withdrawn'
  else if (holder === undefined) phase = 'announced'
  else phase = holder.state

  return { key, repo, taskId, announcement: a, phase, attempt, holder, lostClaims, breaks, attempts, result: r, helpRequests, helpResponses }
}

function compareAnnouncements (a: Keyed, b: Keyed): number {
  const ra = (a.m as TaskBroadcastMessage).revision ?? ''
  const rb = (b.m as TaskBroadcastMessage).revision ?? ''
  return cmp(ra, rb) || compareKeyed(a, b)
}

function compareResults (a: Keyed, b: Keyed): number {
  const ma = a.m as TaskResultMessage
  const mb = b.m as TaskResultMessage
  const sa = ma.result_type === 'failure' ? 0 : 1
  const sb = mb.result_type === 'failure' ? 0 : 1
  return cmp(sa, sb) || cmp(ma.attempt ?? 0, mb.attempt ?? 0) || compareKeyed(a, b)
}
