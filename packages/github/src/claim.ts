/**
 * The claim protocol as pure logic: the marker a claim comment carries, and who holds an
 * issue given the comments read and the server's clock. No I/O here (see claimer.ts).
 * The argument for why this is safe under list lag is in docs/github.md.
 */

export const CLAIM_MARKER_VERSION = 1

/** `claimed` holds for a lease; `done` and `failed` are terminal and hold for ever. */
export type ClaimState = 'claimed' | 'done' | 'failed'

export interface ClaimMarker {
  v: typeof CLAIM_MARKER_VERSION
  node: string
  /** Lease length; the lease runs from the comment's server-side `updated_at`. */
  lease_ms: number
  /** For people and for `task_claim`: the holder's estimate of the end of the lease (RFC 3339). */
  lease_expires: string
  attempt: number
  state: ClaimState
  /** A random id the claimer chose, to find its own comment after an ambiguous failure. */
  nonce: string
  result_url?: string
  /** A break: the id of a claim whose holder the mesh holds dead. A broken claim no longer counts. */
  breaks?: number
  /**
   * On a renewal: the `updated_at` of the version it replaces (RFC 3339, as the server gave it).
   * A renewal applied more than a lease after it landed late: its claim is dead for everybody.
   */
  renews?: string
}

const MARKER_RE = /<!-- bzzz:claim (\{[^\n]{1,2000}?\}) -->/
const NODE_RE = /^[A-Za-z0-9._:/+=-]{1,128}$/
const NONCE_RE = /^[A-Za-z0-9_-]{1,64}$/
const MAX_LEASE_MS = 24 * 3600_000

/** The claim comment's body: the machine-readable marker and a line for people. */
export function formatClaimBody (marker: ClaimMarker): string {
  const human = marker.state === 'claimed'
    ? `🐝 Bzzz node \`${marker.node}\` is working on this issue (attempt ${marker.attempt}, lease until ${marker.lease_expires})${marker.breaks !== undefined ? `, taking over from claim ${marker.breaks}, whose node stopped answering` : ''}.`
    : marker.state === 'done'
      ? `🐝 Bzzz node \`${marker.node}\` finished this issue${marker.result_url !== undefined ? `: ${marker.result_url}` : ''}.`
      : `🐝 Bzzz node \`${marker.node}\` gave up on this issue${marker.result_url !== undefined ? ` (report: ${marker.result_url})` : ''}.`
  return `<!-- bzzz:claim ${JSON.stringify(marker)} -->\n${human}\n`
}

/**
 * The marker in a comment's body, or `undefined` when there is none or it is malformed in any
 * way (unknown version, wrong types, out-of-range values, extra or missing fields).
 */
export function parseClaimMarker (body: string | null | undefined): ClaimMarker | undefined {
  if (typeof body !== 'string') return undefined
  const m = MARKER_RE.exec(body)
  if (m === null) return undefined
  let raw: unknown
  try {
    raw = JSON.parse(m[1]!)
  } catch {
    return undefined
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined
  const o = raw as Record<string, unknown>
  const allowed = new Set(['v', 'node', 'lease_ms', 'lease_expires', 'attempt', 'state', 'nonce', 'result_url', 'breaks', 'renews'])
  if (Object.keys(o).some((k) => !allowed.has(k))) return undefined
  if (o.v !== CLAIM_MARKER_VERSION) return undefined
  if (typeof o.node !== 'string' || !NODE_RE.test(o.node)) return undefined
  if (typeof o.lease_ms !== 'number' || !Number.isInteger(o.lease_ms) || o.lease_ms < 1 || o.lease_ms > MAX_LEASE_MS) return undefined
  if (typeof o.lease_expires !== 'string' || o.lease_expires.length > 64) return undefined
  if (typeof o.attempt !== 'number' || !Number.isInteger(o.attempt) || o.attempt < 1 || o.attempt > 1_000_000) return undefined
  if (o.state !== 'claimed' && o.state !== 'done' && o.state !== 'failed') return undefined
  if (typeof o.nonce !== 'string' || !NONCE_RE.test(o.nonce)) return undefined
  if (o.result_url !== undefined && (typeof o.result_url !== 'string' || o.result_url.length > 2048)) return undefined
  if (o.breaks !== undefined && (typeof o.breaks !== 'number' || !Number.isSafeInteger(o.breaks) || o.breaks < 0)) return undefined
  if (o.renews !== undefined && (typeof o.renews !== 'string' || o.renews.length > 64 || Number.isNaN(Date.parse(o.renews)))) return undefined
  return o as unknown as ClaimMarker
}

/** The part of an issue comment the protocol reads (as GitHub returns it). */
export interface ClaimComment {
  id: number
  body?: string | null | undefined
  user?: { login: string } | null | undefined
  created_at: string
  updated_at: string
}

/** A parsed claim. */
export interface Claim {
  id: number
  author: string
  marker: ClaimMarker
  createdAt: number
  updatedAt: number
}

export interface DecideInput {
  /** The comments read (any order, possibly missing recent ones or holding stale versions). */
  comments: readonly ClaimComment[]
  /** The decider's own claim comment as the server answered its POST/PATCH, always included. */
  own?: ClaimComment | undefined
  /** The server's clock at the read (the answer's `Date`). */
  serverNow: number
  /**
   * Extra time a claim of another node stays live after its lease, so that a renewal hidden
   * by list lag or rounded timestamps is never mistaken for an expiry. Must be ≥ list lag + 2 s.
   */
  graceMs: number
  /** When given, only markers in comments by these logins count (case-insensitive). */
  trustedClaimants?: readonly string[] | undefined
}

export interface Decision {
  /** Every well-formed claim, lowest id first. */
  claims: Claim[]
  /** The claims that still count: terminal ones, and claimed ones within lease + grace. */
  live: Claim[]
  /** The lowest-id live claim: the holder. */
  winner: Claim | undefined
  /** Ids of the claims a higher claim broke. */
  broken: Set<number>
  /** The attempt number a new claim should carry: one more than the highest expired attempt. */
  nextAttempt: number
}

export function parseClaims (comments: readonly ClaimComment[], trusted?: readonly string[]): Claim[] {
  const allow = trusted === undefined ? undefined : new Set(trusted.map((l) => l.toLowerCase()))
  const byId = new Map<number, Claim>()
  for (const c of comments) {
    if (!Number.isSafeInteger(c.id) || c.id < 0) continue
    const author = c.user?.login ?? ''
    if (allow !== undefined && !allow.has(author.toLowerCase())) continue
    const marker = parseClaimMarker(c.body)
    if (marker === undefined) continue
    const createdAt = Date.parse(c.created_at)
    const updatedAt = Date.parse(c.updated_at)
    if (Number.isNaN(createdAt) || Number.isNaN(updatedAt)) continue
    const prev = byId.get(c.id)
    // Two versions of one comment (the list and our own answer): the newer wins.
    if (prev === undefined || updatedAt >= prev.updatedAt) byId.set(c.id, { id: c.id, author, marker, createdAt, updatedAt })
  }
  return [...byId.values()].sort((a, b) => a.id - b.id)
}

/** A renewal the server applied more than a lease after the version it renewed: it must not revive the claim. */
export function landedLate (claim: Pick<Claim, 'updatedAt' | 'marker'>): boolean {
  const r = claim.marker.renews
  return r !== undefined && claim.updatedAt > Date.parse(r) + claim.marker.lease_ms
}

/**
 * Whether a claim still counts at `serverNow` for a node other than its holder. Terminal claims
 * always count; a `claimed` one counts within lease + grace, unless its latest renewal landed late.
 */
export function isLive (claim: Claim, serverNow: number, graceMs: number): boolean {
  if (claim.marker.state !== 'claimed') return true
  if (landedLate(claim)) return false
  return serverNow <= claim.updatedAt + claim.marker.lease_ms + graceMs
}

/** The ids of `claimed` claims that a higher claim breaks (names in its `breaks`). */
export function brokenIds (claims: readonly Claim[]): Set<number> {
  const byId = new Map(claims.map((c) => [c.id, c]))
  const out = new Set<number>()
  for (const b of claims) {
    const target = b.marker.breaks === undefined ? undefined : byId.get(b.marker.breaks)
    if (target !== undefined && target.id < b.id && target.marker.state === 'claimed') out.add(target.id)
  }
  return out
}

/** Who holds the issue: the live claim with the lowest comment id (a broken claim is not live). */
export function decide (input: DecideInput): Decision {
  const all = input.own === undefined ? input.comments : [...input.comments, input.own]
  const claims = parseClaims(all, input.trustedClaimants)
  const broken = brokenIds(claims)
  const live = claims.filter((c) => !broken.has(c.id) && isLive(c, input.serverNow, input.graceMs))
  let maxExpired = 0
  for (const c of claims) if (!live.includes(c)) maxExpired = Math.max(maxExpired, c.marker.attempt)
  return { claims, live, winner: live[0], broken, nextAttempt: maxExpired + 1 }
}

export type Standing =
  | { status: 'won' }
  | { status: 'lost', winner: Claim, reason: 'held' | 'completed' }
  | { status: 'expired' }

/**
 * Where the claim `ownId` stands in a decision, judged by its holder: it wins only if it is the
 * lowest-id live claim AND its own lease, judged strictly, still has `marginMs` left at `serverNowHi`
 * (an upper bound of the server's clock).
 */
export function standing (d: Decision, ownId: number, serverNowHi: number, marginMs: number): Standing {
  const own = d.claims.find((c) => c.id === ownId)
  const w = d.winner
  if (w !== undefined && w.id !== ownId) return { status: 'lost', winner: w, reason: w.marker.state === 'claimed' ? 'held' : 'completed' }
  if (own === undefined || !holderValid(own, serverNowHi, marginMs)) return { status: 'expired' }
  return { status: 'won' }
}

/** The holder's own, strict view of its lease: valid while `marginMs` of it remains. */
export function holderValid (own: Pick<Claim, 'updatedAt' | 'marker'>, serverNowHi: number, marginMs: number): boolean {
  if (own.marker.state !== 'claimed') return true
  return serverNowHi + marginMs < own.updatedAt + own.marker.lease_ms
}

/**
 * A renewal (an edit of the claim comment) that the server applied after the previous lease
 * had run out: the holder must treat its claim as lost, as another node may have taken over.
 */
export function renewalWasLate (previousUpdatedAt: number, renewedUpdatedAt: number, leaseMs: number): boolean {
  return renewedUpdatedAt > previousUpdatedAt + leaseMs
}
