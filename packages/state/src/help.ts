import type { CapabilitiesMessage, TaskHelpRequestMessage, TaskHelpResponseMessage } from '@bzzz/protocol'
import { canonicalJson } from './canonical.js'
import { rendezvousWeight } from './rendezvous.js'
import type { SatisfiesFn } from './requirements.js'
import { timeOf } from './task.js'

export interface HelpConfig {
  /** After a request, wait this long (ms) for offers to compare before accepting the best. Default 2000. */
  collectMs: number
  /** With no usable offer this long (ms) after the request, it has timed out. Default 30000. */
  timeoutMs: number
}

export const DEFAULT_HELP: Readonly<HelpConfig> = Object.freeze({ collectMs: 2000, timeoutMs: 30_000 })

/** What the ranking knows about a helper beyond its offer (from the peer view). */
export interface HelperInfo {
  /** `false` when the helper is suspect or dead here: its offer is not usable. */
  alive: boolean
  capabilities: CapabilitiesMessage | undefined
  /** CPU load in percent, when known from its presence. */
  load: number | undefined
}

export interface HelpOffer {
  node: string
  response: TaskHelpResponseMessage
  etaSeconds: number
  /** The load the ranking used: the offer's own, else the peer's last known CPU, else 100. */
  load: number
}

/** The identity of a help request: its `request_id`, or `<from_node>@<timestamp>` without one. */
export function helpRequestId (request: TaskHelpRequestMessage): string {
  return request.request_id ?? `${request.from_node}@${request.timestamp}`
}

/** Whether `response` answers `request` (same request id, or same task and addressed to the requester). */
export function answers (request: TaskHelpRequestMessage, response: TaskHelpResponseMessage): boolean {
  if (response.task_id !== request.task_id) return false
  if (request.repo !== undefined && response.repo !== undefined && request.repo !== response.repo) return false
  if (response.request_id !== undefined || request.request_id !== undefined) {
    return response.request_id === request.request_id
  }
  if (response.to_node !== undefined && response.to_node !== request.from_node) return false
  return timeOf(response.timestamp) >= timeOf(request.timestamp)
}

/**
 * The usable offers for `request`, best first. Usable: it answers the request, says
 * `can_help`, comes from another peer that is alive, offers the requested capability (when one
 * is named) and satisfies the request's requirements (when the helper's capabilities are
 * known). Best: the shortest announced ETA, then the lowest load, then the highest rendezvous
 * weight for the request id — so every peer ranks the same offers the same way.
 */
export function rankHelpOffers (
  request: TaskHelpRequestMessage,
  responses: Iterable<TaskHelpResponseMessage>,
  helperInfo: (node: string) => HelperInfo | undefined,
  satisfies: SatisfiesFn
): HelpOffer[] {
  const id = helpRequestId(request)
  const best = new Map<string, HelpOffer>()
  for (const response of responses) {
    if (!response.can_help || response.from_node === request.from_node || !answers(request, response)) continue
    const info = helperInfo(response.from_node)
    if (info !== undefined && !info.alive) continue
    const wanted = request.requested_capability
    if (wanted !== '' && !response.capabilities.includes(wanted)) continue
    if (request.requirements !== undefined && info?.capabilities !== undefined &&
      !satisfies(info.capabilities, request.requirements)) continue
    const offer: HelpOffer = {
      node: response.from_node,
      response,
      etaSeconds: response.eta_seconds,
      load: response.load ?? info?.load ?? 100
    }
    // One offer per helper: its latest.
    const prev = best.get(offer.node)
    if (prev === undefined || timeOf(response.timestamp) > timeOf(prev.response.timestamp) ||
      (timeOf(response.timestamp) === timeOf(prev.response.timestamp) && canonicalJson(response) > canonicalJson(prev.response))) {
      best.set(offer.node, offer)
    }
  }
  return [...best.values()].sort((a, b) =>
    a.etaSeconds - b.etaSeconds || a.load - b.load ||
    (rendezvousWeight(id, a.node) > rendezvousWeight(id, b.node) ? -1 : 1))
}

export type HelpStatus = 'waiting' | 'matched' | 'accepted' | 'timed_out'

/** One help request, its offers, and what the requester should do at `now`. */
export interface HelpView {
  requestId: string
  requester: string
  request: TaskHelpRequestMessage
  requestedAt: number
  /** Usable offers, best first. */
  offers: HelpOffer[]
  /** Peers that answered `can_help: false`. */
  declined: string[]
  /**
   * - `waiting`: collecting offers (until `decideAt`);
   * - `matched`: accept `offers[0]` (publish the request again with `accepted_node`);
   * - `accepted`: the requester accepted `acceptedNode`, who takes the task over;
   * - `timed_out`: nobody usable answered within `timeoutMs`.
   */
  status: HelpStatus
  acceptedNode: string | undefined
  /** When the status changes next without new messages (ms), if it will. */
  decideAt: number | undefined
}

/**
 * The help decision, a pure function of the request, the responses and the time. An offer
 * is accepted once `collectMs` have passed since the request (so that a better offer arriving
 * a moment later is not lost); the first usable offer after that is accepted at once. With no
 * usable offer by `timeoutMs`, the request has timed out (see docs/state.md for what follows).
 */
export function decideHelp (
  requests: readonly TaskHelpRequestMessage[],
  responses: readonly TaskHelpResponseMessage[],
  now: number,
  config: HelpConfig,
  helperInfo: (node: string) => HelperInfo | undefined,
  satisfies: SatisfiesFn
): HelpView {
  const first = requests.reduce((a, b) => (timeOf(b.timestamp) < timeOf(a.timestamp) ? b : a))
  const requestedAt = timeOf(first.timestamp)
  const requestId = helpRequestId(first)
  const acceptance = requests.filter((r) => r.accepted_node !== undefined && r.from_node === first.from_node)
    .sort((a, b) => timeOf(a.timestamp) - timeOf(b.timestamp) || (a.accepted_node! < b.accepted_node! ? -1 : 1))[0]
  const offers = rankHelpOffers(first, responses, helperInfo, satisfies)
  const declined = [...new Set(responses.filter((r) => !r.can_help && answers(first, r)).map((r) => r.from_node))].sort()
  let status: HelpStatus
  let decideAt: number | undefined
  if (acceptance !== undefined) {
    status = 'accepted'
  } else if (offers.length > 0) {
    decideAt = requestedAt + config.collectMs
    status = now >= decideAt ? 'matched' : 'waiting'
    if (status === 'matched') decideAt = undefined
  } else {
    decideAt = requestedAt + config.timeoutMs
    status = now >= decideAt ? 'timed_out' : 'waiting'
    if (status === 'timed_out') decideAt = undefined
  }
  return {
    requestId,
    requester: first.from_node,
    request: first,
    requestedAt,
    offers,
    declined,
    status,
    acceptedNode: acceptance?.accepted_node,
    decideAt
  }
}
