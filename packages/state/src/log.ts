import type { Message } from '@bzzz/protocol'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { canonicalJson, NotCanonicalError, sha256Hex, type JsonValue } from './canonical.js'
import {
  LogAuthorError,
  LogAuthorIdError,
  LogChainError,
  LogForkError,
  LogGapError,
  LogHashError,
  LogMalformedError,
  LogReorderError,
  LogSignatureError,
  LogTruncatedError
} from './log-errors.js'
import { taskKey } from './task.js'

/** The entry types Bzzz records. Other types (1–64 characters of `[a-z0-9_.-]`) are allowed too. */
export const LOG_ENTRY_TYPES = [
  'peer_joined',
  'peer_left',
  'task_announced',
  'task_claimed',
  'claim_lost',
  'task_released',
  'task_progress',
  'task_completed',
  'task_failed',
  'help_requested',
  'help_offered',
  'help_accepted'
] as const
export type LogEntryType = (typeof LOG_ENTRY_TYPES)[number]

/**
 * One signed entry of a peer's append-only log.
 *
 * `hash` = hex SHA-256 of the UTF-8 bytes of `"bzzz-log/1\n"` followed by the canonical JSON
 * (sorted keys, no whitespace) of `{ author, seq, prev, time, type, payload }`;
 * `signature` = base64 Ed25519 signature by the author's key over the 32 bytes of that hash.
 */
export interface LogEntry {
  /** The author's peer id (an Ed25519 peer id, which embeds the public key). */
  author: string
  /** 0, 1, 2, … with no gaps. */
  seq: number
  /** The previous entry's `hash`; `null` for entry 0. */
  prev: string | null
  /** Milliseconds since the epoch, on the author's clock. */
  time: number
  type: string
  payload: JsonValue
  hash: string
  signature: string
}

/** A log's length and the hash of its last entry (`null` when empty). */
export interface LogHead {
  author: string
  length: number
  hash: string | null
}

/**
 * Proof that `author` equivocated: two different entries, both validly signed by it, with the
 * same sequence number `seq`. `entries` are ordered by hash, so the same proof is one record.
 */
export interface Equivocation {
  author: string
  seq: number
  entries: readonly [LogEntry, LogEntry]
  /** When this peer found it (local ms). */
  detectedAt: number
}

/** The evidence for `a` and `b`, ordered by hash (see `Equivocation`). */
export function equivocation (a: LogEntry, b: LogEntry, detectedAt: number): Equivocation {
  const entries: [LogEntry, LogEntry] = a.hash < b.hash ? [signedFieldsOf(a), signedFieldsOf(b)] : [signedFieldsOf(b), signedFieldsOf(a)]
  return { author: a.author, seq: a.seq, entries, detectedAt }
}

/** Persistence behind logs (see `openStateStore`, `createMemoryStore`). Synchronous and atomic. */
export interface LogStore {
  logHead(author: string): LogHead
  logHeads(): LogHead[]
  /** Entries `from` (inclusive) to `to` (exclusive). */
  logRange(author: string, from: number, to: number): LogEntry[]
  /**
   * Appends already verified entries in one transaction. Throws `LogConflictError` if the
   * log's length is not `entries[0].seq` (another writer got there first).
   */
  appendLog(author: string, entries: readonly LogEntry[]): void
  /**
   * Keeps the evidence of an equivocation (idempotent: the same pair of entries is kept once).
   * Optional for stores of other packages; both of this package's stores keep it durably.
   */
  recordEquivocation?(evidence: Equivocation): void
  /** The evidence kept (of one author, or of all), oldest first. */
  equivocations?(author?: string): Equivocation[]
}

/** The store's log did not have the length an append expected. */
export class LogConflictError extends Error {
  readonly code = 'ERR_LOG_CONFLICT'
  readonly author: string
  readonly expected: number
  readonly actual: number
  constructor (author: string, expected: number, actual: number) {
    super(`log ${author.slice(0, 16)}…: append at ${expected}, but it has ${actual} entries`)
    this.name = 'LogConflictError'
    this.author = author
    this.expected = expected
    this.actual = actual
  }
}

const DOMAIN = 'bzzz-log/1\n'
const TYPE_RE = /^[a-z0-9_.-]{1,64}$/
const HEX64 = /^[0-9a-f]{64}$/

/** The hash of an entry's signed fields (see `LogEntry`). */
export function logEntryHash (e: Pick<LogEntry, 'author' | 'seq' | 'prev' | 'time' | 'type' | 'payload'>): string {
  return sha256Hex(DOMAIN + canonicalJson({ author: e.author, seq: e.seq, prev: e.prev, time: e.time, type: e.type, payload: e.payload }))
}

const keyCache = new Map<string, PublicKey>()

/**
 * The public key of `author` when it is the canonical string of an Ed25519 peer id, else
 * `undefined`. `peerIdFromString` also takes the CID spellings of a key (`bafz…`, `k51…`):
 * accepting them would give one key several logs, each passing for another author.
 */
export function authorKey (author: string): PublicKey | undefined {
  let key = keyCache.get(author)
  if (key === undefined) {
    try {
      const id = peerIdFromString(author)
      if (id.type !== 'Ed25519' || id.toString() !== author) return undefined
      key = id.publicKey
    } catch {
      return undefined
    }
    if (keyCache.size > 4096) keyCache.clear()
    keyCache.set(author, key)
  }
  return key
}

/** Is `author` the canonical string of an Ed25519 peer id (the only spelling a log may have)? */
export function isCanonicalAuthor (author: string): boolean {
  return authorKey(author) !== undefined
}

function shapeProblem (e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return 'not an object'
  const x = e as Record<string, unknown>
  if (typeof x.author !== 'string') return 'author is not a string'
  if (!Number.isSafeInteger(x.seq) || (x.seq as number) < 0) return 'seq is not a non-negative integer'
  if (x.prev !== null && (typeof x.prev !== 'string' || !HEX64.test(x.prev))) return 'prev is not a hash or null'
  if (typeof x.time !== 'number' || !Number.isFinite(x.time)) return 'time is not a finite number'
  if (typeof x.type !== 'string' || !TYPE_RE.test(x.type)) return 'type is not 1-64 characters of [a-z0-9_.-]'
  if (typeof x.hash !== 'string' || !HEX64.test(x.hash)) return 'hash is not 64 hex digits'
  if (typeof x.signature !== 'string' || x.signature.length > 200) return 'signature is not a string'
  if (x.payload === undefined) return 'payload is missing'
  try {
    canonicalJson(x.payload) // null is a payload like any other JSON value
  } catch (err) {
    return err instanceof NotCanonicalError ? `payload ${err.message}` : 'payload is not JSON'
  }
  return undefined
}

export interface VerifyOptions {
  /** The head the entries continue from. Default: the empty log (`length: 0, hash: null`). */
  after?: { length: number, hash: string | null }
  /**
   * A head already known for this log (from an earlier replication, or remembered). The
   * entries must reach it (else `LogTruncatedError`) and agree with it (else `LogForkError`).
   */
  knownHead?: { length: number, hash: string | null }
  signal?: AbortSignal
}

/**
 * Verifies that `entries` are the next entries of `author`'s log: each is well formed,
 * is the author's, has the next sequence number, chains to the one before, hashes to its
 * `hash` and is signed by the author's key. Resolves to the new head; rejects with the
 * first problem found, a `LogVerificationError` subclass naming the entry (`LogAuthorIdError`
 * when `author` is not the canonical peer id of an Ed25519 key).
 */
export async function verifyLogEntries (author: string, entries: readonly unknown[], options: VerifyOptions = {}): Promise<LogHead> {
  const key = authorKey(author)
  if (key === undefined) throw new LogAuthorIdError(author)
  const start = options.after ?? { length: 0, hash: null }
  let prev = start.hash
  for (let i = 0; i < entries.length; i++) {
    options.signal?.throwIfAborted()
    const expected = start.length + i
    const raw = entries[i]
    const problem = shapeProblem(raw)
    if (problem !== undefined) throw new LogMalformedError(author, expected, problem)
    const e = raw as LogEntry
    if (e.author !== author) throw new LogAuthorError(author, expected, e.author)
    if (e.seq < expected) throw new LogReorderError(author, expected, e.seq)
    if (e.seq > expected) {
      // A later entry in the batch being the expected one means reordering, not removal.
      const later = entries.slice(i + 1).some((x) => (x as LogEntry | undefined)?.seq === expected)
      throw later ? new LogReorderError(author, expected, e.seq) : new LogGapError(author, expected, e.seq)
    }
    if (e.prev !== prev) throw new LogChainError(author, expected)
    const actual = logEntryHash(e)
    if (actual !== e.hash) throw new LogHashError(author, expected, e.hash, actual)
    const sig = Buffer.from(e.signature, 'base64')
    let ok = false
    // Only the canonical base64 of the 64 bytes: Node's decoder skips stray characters, so
    // other spellings would verify too and travel on as unsigned variants of the entry.
    if (sig.length === 64 && sig.toString('base64') === e.signature) {
      try {
        ok = await key.verify(Buffer.from(e.hash, 'hex'), sig)
      } catch {
        ok = false
      }
    }
    if (!ok) throw new LogSignatureError(author, expected)
    prev = e.hash
  }
  const head: LogHead = { author, length: start.length + entries.length, hash: prev }
  const known = options.knownHead
  if (known !== undefined) {
    if (head.length < known.length) throw new LogTruncatedError(author, head.length, known.length)
    if (known.length > start.length) {
      const at = entries[known.length - 1 - start.length] as LogEntry
      if (at.hash !== known.hash) throw new LogForkError(author, known.length - 1)
    } else if (known.length === start.length && known.hash !== start.hash) {
      throw new LogForkError(author, known.length - 1)
    }
  }
  return head
}

/**
 * The entry with exactly the fields that `logEntryHash` and the signature cover (plus the
 * two themselves): what may be stored once `verifyLogEntries` accepted it. Anything else a
 * peer sent along is unsigned and is dropped.
 */
export function signedFieldsOf (e: LogEntry): LogEntry {
  return { author: e.author, seq: e.seq, prev: e.prev, time: e.time, type: e.type, payload: e.payload, hash: e.hash, signature: e.signature }
}

/** Verifies a whole log from entry 0 (see `verifyLogEntries`). */
export async function verifyLog (author: string, entries: readonly unknown[], options: Omit<VerifyOptions, 'after'> = {}): Promise<LogHead> {
  return verifyLogEntries(author, entries, options)
}

export interface SignedLogInit {
  /** The author's Ed25519 key; pass the mesh's peer key so the log's author is the peer id. */
  privateKey: PrivateKey
  store: LogStore
  /** Clock for entry times. Default `Date.now`. */
  clock?: () => number
}

export interface SignedLog {
  /** The author's peer id. */
  readonly author: string
  /** Signs and appends an entry; resolves once it is stored (durably, with a durable store). */
  append(type: string, payload: JsonValue, options?: { time?: number, signal?: AbortSignal }): Promise<LogEntry>
  head(): LogHead
  range(from: number, to: number): LogEntry[]
  /** Re-verifies the whole stored log (optionally against a head known from elsewhere). */
  verify(options?: { knownHead?: { length: number, hash: string | null }, signal?: AbortSignal }): Promise<LogHead>
}

/** Opens the peer's own signed log on `store`. Appends are serialised: each gets the next `seq`. */
export function createSignedLog (init: SignedLogInit): SignedLog {
  if (init.privateKey.type !== 'Ed25519') throw new TypeError('the log needs an Ed25519 key')
  const author = peerIdFromPrivateKey(init.privateKey).toString()
  const clock = init.clock ?? Date.now
  const { store, privateKey } = init
  let tail: Promise<unknown> = Promise.resolve()

  const appendNow = async (type: string, payload: JsonValue, options: { time?: number, signal?: AbortSignal }): Promise<LogEntry> => {
    options.signal?.throwIfAborted()
    if (!TYPE_RE.test(type)) throw new TypeError('type must be 1-64 characters of [a-z0-9_.-]')
    canonicalJson(payload)
    const head = store.logHead(author)
    const fields = { author, seq: head.length, prev: head.hash, time: options.time ?? clock(), type, payload }
    const hash = logEntryHash(fields)
    const signature = Buffer.from(await privateKey.sign(sha256Bytes(hash))).toString('base64')
    const entry: LogEntry = { ...fields, hash, signature }
    store.appendLog(author, [entry])
    return entry
  }

  return {
    author,
    append (type, payload, options = {}) {
      const run = tail.then(async () => appendNow(type, payload, options))
      tail = run.catch(() => {})
      return run
    },
    head: () => store.logHead(author),
    range: (from, to) => store.logRange(author, from, to),
    async verify (options = {}) {
      const head = store.logHead(author)
      return verifyLog(author, store.logRange(author, 0, head.length), options)
    }
  }
}

function sha256Bytes (hex: string): Uint8Array { return Buffer.from(hex, 'hex') }

/**
 * The log entry a mesh message calls for, if any: an announcement, a claim (or its loss or
 * release), a result, a help request, offer or acceptance. The app logs what it does and sees.
 */
export function logEntryForMessage (message: Message): { type: LogEntryType, payload: JsonValue } | undefined {
  switch (message.type) {
    case 'task':
      return { type: 'task_announced', payload: { task: taskKey(message.repo, message.task_id), action: message.action ?? 'open', issue_url: message.issue_url, revision: message.revision ?? null } }
    case 'task_claim':
      return {
        type: message.state === 'released' ? 'task_released' : message.state === 'running' ? 'task_progress' : 'task_claimed',
        payload: { task: taskKey(message.repo, message.task_id), node: message.node_id, attempt: message.attempt ?? 1, claim_id: message.claim_id ?? null, lease_expires: message.lease_expires ?? null, state: message.state ?? 'claimed' }
      }
    case 'task_result':
      return {
        type: message.result_type === 'failure' ? 'task_failed' : 'task_completed',
        payload: { task: taskKey(message.repo, message.task_id), node: message.node_id, result_type: message.result_type, result_url: message.result_url, reason: message.reason ?? null, duration_ms: message.duration_ms }
      }
    case 'task_help_request':
      return message.accepted_node !== undefined
        ? { type: 'help_accepted', payload: { task: taskKey(message.repo, message.task_id), requester: message.from_node, helper: message.accepted_node, request_id: message.request_id ?? null } }
        : { type: 'help_requested', payload: { task: taskKey(message.repo, message.task_id), requester: message.from_node, capability: message.requested_capability, reason: message.reason, request_id: message.request_id ?? null } }
    case 'task_help_response':
      return message.can_help
        ? { type: 'help_offered', payload: { task: taskKey(message.repo, message.task_id), helper: message.from_node, eta_seconds: message.eta_seconds, request_id: message.request_id ?? null } }
        : undefined
    default:
      return undefined
  }
}
