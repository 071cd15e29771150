/**
 * The life of one claim handle as an explicit state machine: named states and pure transitions.
 * No I/O and no clock here: claimer.ts sends the requests, reads the clocks and feeds what came
 * back as events; the model-based test drives the same functions against a model of GitHub.
 *
 *   posting ──post_answered──► deciding ──read──► holding ──complete_answered──► finished
 *      │  └─post_ambiguous─► searching ─post_found─┘   │ │
 *      │                        └─(not found)─► lost   │ └─read / edit_answered / tick─► lost
 *      └─abort─► lost (orphan)                         └─release─► released
 *
 * Times: `serverNow`, `createdAt`, `updatedAt` are the server's (ms); `at`, `sentAt`,
 * `confirmedAt` are this process's monotonic clock (ms). The argument is in docs/github.md.
 */
import {
  decide, holderValid, landedLate, parseClaimMarker, renewalWasLate,
  type Claim, type ClaimComment, type ClaimMarker
} from './claim.js'

export interface MachineConfig {
  node: string
  /** The random id in this handle's markers. */
  nonce: string
  leaseMs: number
  /** The list lag the protocol assumes (a claim waits this long before its decision read). */
  settleMs: number
  /** How long past its lease another node's claim still counts. */
  graceMs: number
  /** The holder stops when less than this remains of its lease; a publishing step lasts at most this. */
  marginMs: number
  /** Logins whose markers count; undefined: everybody's (tests only). */
  trusted: readonly string[] | undefined
  /** How long a `claimed` marker by another login counts from its creation (see `DecideInput`). */
  untrustedLeaseMs?: number
  /** The claim this one breaks (its holder is dead), if any. */
  breaks: number | undefined
  /**
   * The watch chain (see `Chain`): the longest gap allowed between two reads of one chain,
   * local ms from a read's send to the next one's answer. Default `marginMs / 2`, at least 1 s.
   */
  chainGapMs?: number
  /**
   * How long the chain must reach back from a fence's read before that fence passes. Default
   * `marginMs + chainGapMs + 4 × settleMs` (margin + gap + twice a list lag of up to 2 × settleMs).
   */
  chainSpanMs?: number
}

/** The chain bounds of a configuration, defaults applied. */
export function chainBounds (cfg: Pick<MachineConfig, 'marginMs' | 'settleMs' | 'chainGapMs' | 'chainSpanMs'>): { gapMs: number, spanMs: number } {
  // At least a second: a tiny margin would otherwise make the watch read many times a second.
  const gapMs = cfg.chainGapMs ?? Math.max(1000, Math.floor(cfg.marginMs / 2))
  return { gapMs, spanMs: cfg.chainSpanMs ?? cfg.marginMs + gapMs + 4 * cfg.settleMs }
}

/**
 * The holder's unbroken run of reads since its last write: each read was answered at most
 * `chainGapMs` after the previous one was sent (local time), so some read of the chain was served
 * in every stretch of `chainGapMs` between the first and the last. A fence passes only when the
 * chain reaches `chainSpanMs` back: then any claim that broke this one, or any lower claim, that
 * was listed for long enough before a step it could overlap was seen (docs/github.md).
 */
export interface Chain {
  /** Local time the chain's first read was answered. */
  firstAt: number
  /** Local time the chain's last read was sent. */
  lastSent: number
  /**
   * The server's clock at the chain's last read (its `Date`): a gap longer by the server's
   * clock than `chainGapMs` + rounding also cuts the chain (a suspended machine's monotonic
   * clock stands still).
   */
  lastServer: number
}

export type LostReason =
  | 'held' // another live claim is lower
  | 'completed' // the issue is finished (a terminal claim)
  | 'expired' // own lease ran out (or a renewal landed late)
  | 'withdrawn' // released by its holder
  | 'superseded' // own marker was changed by someone else
  | 'deleted' // own comment is gone
  | 'broken' // a higher claim broke this one (the mesh held its holder dead)
  | 'unanswered' // the POST got no answer and was not found
  | 'aborted' // the caller gave up before a decision

/** The own claim comment as the server last confirmed it. */
export interface OwnComment {
  id: number
  createdAt: number
  updatedAt: number
  /** `updated_at` as the server wrote it (a renewal names it in `renews`). */
  updatedAtText: string
  /** Local time taken BEFORE the request that confirmed this version was sent. */
  confirmedAt: number
}

export type HandleState =
  | { name: 'posting', tries: number }
  | { name: 'searching', tries: number }
  | { name: 'deciding', own: OwnComment }
  | {
    name: 'holding'
    own: OwnComment
    attempt: number
    /** Server time before which no fence of this claim passes. */
    publishFrom: number
    /** A terminal edit was sent: the comment may be terminal now, so it is never deleted. */
    terminalSent: boolean
    /**
     * The first terminal marker sent (its answer may have been lost): every later edit repeats
     * it, as writing `claimed` again could undo a finish that others have already seen.
     */
    terminal?: TerminalEdit
    /** The reads since the last write of the own comment (undefined: none yet, or a gap). */
    chain: Chain | undefined
    /**
     * Local time after which a read counts for the chain: the last own write was answered (or
     * failed) then; `+Infinity` while one is in flight (it may land at any moment).
     */
    writtenAt: number
  }
  | { name: 'finished', own: OwnComment, state: 'done' | 'failed' }
  | {
    name: 'lost'
    reason: LostReason
    own: OwnComment | undefined
    /** Delete the own comment (never a terminal one). */
    withdraw: boolean
    /** A POST may have been applied unseen: look for the nonce later and delete what is found. */
    orphan: boolean
    winner: Claim | undefined
    /** Server time before which claiming again is pointless (the winner's lease end), if known. */
    retryAt: number | undefined
  }
  | { name: 'released', own: OwnComment | undefined, withdraw: boolean }

/** What a terminal edit writes. */
export interface TerminalEdit {
  state: 'done' | 'failed'
  resultUrl: string | undefined
}

export type HandleEvent =
  | { type: 'post_answered', comment: ClaimComment, sentAt: number }
  | { type: 'post_ambiguous' }
  | { type: 'post_found', comment: ClaimComment | undefined, sentAt: number }
  /**
   * A complete read of the comments: `serverNow` from its answer, `sentAt` the local
   * time its first request was sent, `at` the local time it came back.
   */
  | { type: 'read', comments: readonly ClaimComment[], serverNow: number, sentAt: number, at: number }
  /** An edit answered: `sentAt` local time before it was sent, `at` when its answer came. */
  | { type: 'edit_answered', comment: ClaimComment, sentAt: number, at: number, terminal: boolean }
  | { type: 'edit_sent', terminal: boolean, edit?: TerminalEdit }
  /** An edit failed without telling whether it was applied (5xx, no answer); `at` local time of the failure. */
  | { type: 'edit_failed', at: number }
  | { type: 'edit_gone' }
  /** The local clock, checked before an edit or a publishing step. */
  | { type: 'tick', at: number }
  | { type: 'release' }
  | { type: 'abort' }

export const initialState: HandleState = { name: 'posting', tries: 1 }

/** POSTs of one claim at most (a POST unanswered and not found is sent again, with the same nonce). */
export const MAX_POSTS = 3

/** Server rounds `updated_at` and `Date` to the second. */
const ROUNDING_MS = 1000

function ownOf (c: ClaimComment, confirmedAt: number): OwnComment {
  return { id: c.id, createdAt: Date.parse(c.created_at), updatedAt: Date.parse(c.updated_at), updatedAtText: c.updated_at, confirmedAt }
}

/**
 * A lost claim is deleted when it lost a race (`held`, `completed`) or its caller gave up
 * (`aborted`): otherwise it would count until its lease ends. An expired or broken one is left
 * (it no longer counts, and it keeps the attempt count); a terminal one is never deleted.
 */
function lost (reason: LostReason, own: OwnComment | undefined, extra: Partial<Extract<HandleState, { name: 'lost' }>> = {}): HandleState {
  const withdraw = own !== undefined && (reason === 'held' || reason === 'completed' || reason === 'aborted')
  return { name: 'lost', reason, own, withdraw, orphan: false, winner: undefined, retryAt: undefined, ...extra }
}

/** The state is final: nothing more will happen to the claim. */
export function isFinal (s: HandleState): boolean {
  return s.name === 'lost' || s.name === 'released' || s.name === 'finished'
}

/** Server time up to which the own lease is valid, by local elapsed time (an overestimate of elapsed server time). */
export function localServerEstimate (own: OwnComment, at: number): number {
  return own.updatedAt + (at - own.confirmedAt) + ROUNDING_MS
}

/** The marker this handle writes. `serverNowEstimate` dates `lease_expires` (for people and `task_claim`). */
export function markerFor (cfg: MachineConfig, s: HandleState, state: ClaimMarker['state'], serverNowEstimate: number, attempt: number, resultUrl?: string): ClaimMarker {
  const own = 'own' in s ? s.own : undefined
  return {
    v: 1,
    node: cfg.node,
    lease_ms: cfg.leaseMs,
    lease_expires: new Date(serverNowEstimate + cfg.leaseMs).toISOString(),
    attempt,
    state,
    nonce: cfg.nonce,
    ...(resultUrl !== undefined ? { result_url: resultUrl } : {}),
    ...(cfg.breaks !== undefined ? { breaks: cfg.breaks } : {}),
    ...(own !== undefined && s.name !== 'deciding' && s.name !== 'posting' ? { renews: own.updatedAtText } : {})
  }
}

/** Ids of comments that carry this handle's nonce but are not its claim: POSTs applied unseen. */
export function orphansIn (comments: readonly ClaimComment[], nonce: string, ownId: number | undefined): number[] {
  return comments.filter((c) => c.id !== ownId && parseClaimMarker(c.body)?.nonce === nonce).map((c) => c.id)
}

/**
 * Judges a read of the claims for the holder (the decision read and every fence):
 * the own claim must be present and unchanged, not broken, not landed late, the lowest live
 * claim, and valid with `marginMs` to spare both by the server's clock and by local elapsed time.
 */
function judge (cfg: MachineConfig, own: OwnComment, comments: readonly ClaimComment[], serverNow: number, at: number, first: boolean): HandleState | { ok: true, listed: Claim, nextAttempt: number } {
  // The decision read always counts the own comment (lag cannot hide it); a fence must find it
  // (the I/O asks for the comment itself when the list lags behind it: absent means deleted).
  const present = comments.some((c) => c.id === own.id)
  if (!present && !first) return lost('deleted', own, { withdraw: false })
  const ownComment: ClaimComment | undefined = present ? undefined : { id: own.id, body: undefined, created_at: new Date(own.createdAt).toISOString(), updated_at: own.updatedAtText }
  // Other comments with this nonce are this handle's own unseen POSTs, deleted as they are found.
  const others = comments.filter((c) => c.id === own.id || parseClaimMarker(c.body)?.nonce !== cfg.nonce)
  const d = decide({ comments: others, serverNow, graceMs: cfg.graceMs, trustedClaimants: cfg.trusted, untrustedLeaseMs: cfg.untrustedLeaseMs })
  const listed = d.claims.find((c) => c.id === own.id)
  if (listed === undefined && ownComment === undefined) return lost('superseded', own, { withdraw: false })
  if (listed !== undefined && (listed.marker.nonce !== cfg.nonce || listed.marker.node !== cfg.node)) return lost('superseded', own, { withdraw: false })
  if (listed !== undefined && listed.marker.state !== 'claimed') return lost('completed', own, { withdraw: false })
  if (d.broken.has(own.id)) return lost('broken', own)
  const w = d.winner
  if (w !== undefined && w.id < own.id) {
    return lost(w.marker.state === 'claimed' ? 'held' : 'completed', own, { winner: w, retryAt: retryAtOf(cfg, w) })
  }
  // A finished issue stays finished, whoever finished it.
  const done = d.live.find((c) => c.id !== own.id && c.marker.state !== 'claimed')
  if (done !== undefined) return lost('completed', own, { winner: done, retryAt: Number.POSITIVE_INFINITY })
  if (listed !== undefined && landedLate(listed)) return lost('expired', own)
  const updatedAt = Math.max(own.updatedAt, listed?.updatedAt ?? 0)
  const marker = listed?.marker ?? { state: 'claimed' as const, lease_ms: cfg.leaseMs }
  if (!holderValid({ updatedAt, marker: marker as ClaimMarker }, serverNow + ROUNDING_MS, cfg.marginMs)) return lost('expired', own)
  // No revival: the lease by local elapsed time since the last confirmed write must not have run out.
  if (!holderValid({ updatedAt: own.updatedAt, marker: marker as ClaimMarker }, localServerEstimate(own, at), 0)) return lost('expired', own)
  return { ok: true, listed: listed ?? { id: own.id, author: '', trusted: true, marker: marker as ClaimMarker, createdAt: own.createdAt, updatedAt }, nextAttempt: d.nextAttempt }
}

/**
 * A claimer that lost keeps the winner's lease end and answers `lost` until then without
 * posting. When it is asked again, a conditional read (free when unchanged) tells whether a
 * claim still holds the issue: the lowest live claim then, with its lease end (server ms;
 * `+Infinity` when the issue is finished). `undefined`: none holds (the winner released its
 * claim, or it was deleted, broken or expired), so claiming is worth it again.
 */
export function stillHeld (cfg: Pick<MachineConfig, 'graceMs' | 'trusted' | 'untrustedLeaseMs'>, comments: readonly ClaimComment[], serverNow: number): { winner: Claim, retryAt: number } | undefined {
  const d = decide({ comments, serverNow, graceMs: cfg.graceMs, trustedClaimants: cfg.trusted, untrustedLeaseMs: cfg.untrustedLeaseMs })
  const w = d.winner
  if (w === undefined) return undefined
  return { winner: w, retryAt: retryAtOf(cfg, w) }
}

/** Until when (server ms) claiming against the live claim `w` is pointless. */
function retryAtOf (cfg: Pick<MachineConfig, 'graceMs' | 'untrustedLeaseMs'>, w: Claim): number {
  if (w.marker.state !== 'claimed') return Number.POSITIVE_INFINITY
  return w.trusted ? w.updatedAt + w.marker.lease_ms + cfg.graceMs : w.createdAt + Math.min(w.marker.lease_ms, cfg.untrustedLeaseMs ?? 0) + cfg.graceMs
}

/** The one transition function. Events that do not apply to a state leave it unchanged. */
export function step (cfg: MachineConfig, s: HandleState, e: HandleEvent, attemptHint = 1): HandleState {
  switch (e.type) {
    case 'abort':
      if (s.name === 'posting' || s.name === 'searching') return lost('aborted', undefined, { orphan: true })
      if (s.name === 'deciding') return lost('aborted', s.own)
      if (s.name === 'holding') return lost('aborted', s.own, { withdraw: !s.terminalSent })
      return s
    case 'release':
      if (s.name === 'posting' || s.name === 'searching') return { name: 'released', own: undefined, withdraw: false }
      if (s.name === 'deciding') return { name: 'released', own: s.own, withdraw: true }
      if (s.name === 'holding') return { name: 'released', own: s.own, withdraw: !s.terminalSent }
      return s
    case 'post_answered':
      if (s.name !== 'posting' && s.name !== 'searching') return s
      return { name: 'deciding', own: ownOf(e.comment, e.sentAt) }
    case 'post_ambiguous':
      return s.name === 'posting' ? { name: 'searching', tries: s.tries } : s
    case 'post_found':
      if (s.name !== 'searching') return s
      if (e.comment !== undefined) return { name: 'deciding', own: ownOf(e.comment, e.sentAt) }
      // Not found: not applied, or applied but not yet listed (a sweep deletes it if it shows up).
      return s.tries < MAX_POSTS ? { name: 'posting', tries: s.tries + 1 } : lost('unanswered', undefined, { orphan: true })
    case 'read': {
      if (s.name !== 'deciding' && s.name !== 'holding') return s
      const attempt = s.name === 'holding' ? s.attempt : attemptHint
      const j = judge(cfg, s.own, e.comments, e.serverNow, e.at, s.name === 'deciding')
      if (!('ok' in j)) return s.name === 'holding' && s.terminalSent && j.name === 'lost' ? { ...j, withdraw: false } : j
      if (s.name === 'holding') return { ...s, chain: extendChain(cfg, s.chain, s.writtenAt, e) }
      return {
        name: 'holding',
        own: s.own,
        attempt: Math.max(attempt, j.nextAttempt),
        // No fence passes before the claim + list lag (any earlier holder's fence can see it) +
        // margin (that holder's last step has ended) + list lag (what it published is listed).
        // This is what a break needs; applied to every claim, it also covers a claim deleted by
        // someone else while its holder was in a step.
        publishFrom: s.own.createdAt + 2 * cfg.settleMs + cfg.marginMs + ROUNDING_MS,
        terminalSent: false,
        chain: { firstAt: e.at, lastSent: e.sentAt, lastServer: e.serverNow },
        writtenAt: e.sentAt
      }
    }
    case 'tick':
      if (s.name !== 'holding') return s
      if (!holderValid({ updatedAt: s.own.updatedAt, marker: { state: 'claimed', lease_ms: cfg.leaseMs } as ClaimMarker }, localServerEstimate(s.own, e.at), 0)) {
        return lost('expired', s.own)
      }
      return s
    case 'edit_sent':
      // A write of the own comment may restore a marker someone else removed meanwhile, unseen:
      // the claim was not listed for a while. The chain starts again after the write.
      if (s.name !== 'holding') return s
      if (!e.terminal) return { ...s, chain: undefined, writtenAt: Number.POSITIVE_INFINITY }
      return { ...s, terminalSent: true, terminal: s.terminal ?? e.edit, chain: undefined, writtenAt: Number.POSITIVE_INFINITY }
    case 'edit_failed':
      if (s.name !== 'holding') return s
      return { ...s, chain: undefined, writtenAt: e.at }
    case 'edit_gone':
      if (s.name !== 'holding') return s
      return lost('deleted', s.own, { withdraw: false })
    case 'edit_answered': {
      if (s.name !== 'holding') return s
      const m = parseClaimMarker(e.comment.body)
      const next = ownOf(e.comment, e.sentAt)
      if (m === undefined || m.nonce !== cfg.nonce) return lost('superseded', s.own, { withdraw: false })
      if (m.state !== 'claimed') return { name: 'finished', own: next, state: m.state }
      // Applied after the lease ran out: another node may hold the issue now. Never revive.
      if (renewalWasLate(s.own.updatedAt, next.updatedAt, cfg.leaseMs)) return lost('expired', next)
      return { ...s, own: next, chain: undefined, writtenAt: e.at }
    }
  }
}

/**
 * What an edit of the own comment writes: what was asked, unless a terminal marker was sent
 * before. Then that one is sent again (a renewal completes instead of reviving the claim).
 */
export function editFor (s: HandleState, state: ClaimMarker['state'], resultUrl: string | undefined): { state: ClaimMarker['state'], resultUrl: string | undefined } {
  if (s.name === 'holding' && s.terminal !== undefined) return s.terminal
  return { state, resultUrl }
}

/** How long (server ms) a holding claim must still wait before publishing; 0 when it may. */
export function publishWait (s: HandleState, serverNow: number): number {
  return s.name === 'holding' ? Math.max(0, s.publishFrom - serverNow) : 0
}

/**
 * A read extends the chain when it was sent after the last own write was answered and it came
 * back at most `chainGapMs` after the chain's last read was sent; otherwise it starts a new one
 * (or, sent before the write's answer, none).
 */
export function extendChain (cfg: MachineConfig, chain: Chain | undefined, writtenAt: number, read: { sentAt: number, at: number, serverNow: number }): Chain | undefined {
  if (read.sentAt < writtenAt) return chain
  const { gapMs } = chainBounds(cfg)
  if (chain !== undefined && read.at - chain.lastSent <= gapMs && read.serverNow - chain.lastServer <= gapMs + ROUNDING_MS) {
    return { firstAt: chain.firstAt, lastSent: Math.max(chain.lastSent, read.sentAt), lastServer: Math.max(chain.lastServer, read.serverNow) }
  }
  return { firstAt: read.at, lastSent: read.sentAt, lastServer: read.serverNow }
}

/**
 * How long (local ms) the chain must still grow before a fence may pass on its last read; 0
 * when it reaches `chainSpanMs` back (the pass starts at that read's send). Not holding: 0.
 */
export function chainWait (cfg: MachineConfig, s: HandleState): number {
  if (s.name !== 'holding') return 0
  const { spanMs } = chainBounds(cfg)
  if (s.chain === undefined) return spanMs
  return Math.max(0, s.chain.firstAt + spanMs - s.chain.lastSent)
}
