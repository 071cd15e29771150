import { TypedEventEmitter, type AbortOptions, type Libp2p, type PeerId, type Stream, type TypedEventTarget } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { LogAuthorIdError, LogChainError, LogForkError, LogTruncatedError } from './log-errors.js'
import { firstDifference } from './fork-search.js'
import { equivocation, isCanonicalAuthor, signedFieldsOf, verifyLogEntries, type Equivocation, type LogEntry, type LogHead, type LogStore } from './log.js'

/** The stream protocol of log replication. */
export const LOG_PROTOCOL = '/bzzz/log/1.0.0'

/**
 * The pubsub service of the mesh's node (gossipsub), as far as the replicator uses it: the
 * senders of valid messages on the topics this node subscribes to are the mesh's members.
 */
export interface MeshPubSub {
  getTopics(): string[]
  getSubscribers(topic: string): PeerId[]
  addEventListener(type: 'message', listener: (evt: CustomEvent<{ topic: string, from?: PeerId }>) => void): void
  removeEventListener(type: 'message', listener: (evt: CustomEvent<{ topic: string, from?: PeerId }>) => void): void
}

/**
 * The part of a libp2p node the replicator uses; pass the mesh's node (`mesh.libp2p`). Its
 * `peerId` and `services.pubsub` give the default of whose logs are kept (see `accept`).
 */
export type ReplicatorComponents = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'> & {
  peerId?: PeerId
  services?: { pubsub?: MeshPubSub }
}

export interface ReplicatorInit {
  components: ReplicatorComponents
  store: LogStore
  /**
   * Which authors' logs to fetch and keep. Default: the mesh's members — this peer, the peers
   * subscribed to this node's topics, and every signer of a valid message seen on them — so
   * that a connected peer cannot fill the disk with the logs of fresh keys. Without a pubsub
   * service in `components`, `accept` must be given.
   */
  accept?: (author: string) => boolean
  /** Most entries kept of one author's log; a longer log is kept up to the cap (`LogCapError`). Default 100000. */
  maxEntriesPerAuthor?: number
  /** Most members remembered by the default `accept` (the oldest seen are forgotten first). Default 10000. */
  maxMembers?: number
  /** Most entries per range answer (and per request). Default 256. */
  maxEntriesPerRequest?: number
  /** Largest frame read or written, in bytes. Default 4 MiB. */
  maxFrameBytes?: number
  /** Time limit of one request, in ms, on top of any signal passed. Default 10000. */
  requestTimeoutMs?: number
  /** The clock of `Equivocation.detectedAt`. Default `Date.now`. */
  now?: () => number
  protocol?: string
}

/** Events of the replicator. */
export interface ReplicatorEvents {
  /**
   * An author signed two different entries at one sequence number. The evidence is already
   * kept in the store (`store.equivocations()`); tell the ledger (`ledger.markEquivocating`)
   * so that the author's messages are discounted, and the operator.
   */
  equivocation: CustomEvent<Equivocation>
}

/** One author's log is longer than `maxEntriesPerAuthor`: it is kept only up to the cap. */
export class LogCapError extends Error {
  readonly code = 'ERR_LOG_CAP'
  readonly author: string
  readonly cap: number
  readonly offered: number
  constructor (author: string, cap: number, offered: number) {
    super(`log ${author.slice(0, 16)}…: ${offered} entries offered, at most ${cap} are kept per author`)
    this.name = 'LogCapError'
    this.author = author
    this.cap = cap
    this.offered = offered
  }
}

/** What one author's log gained (or why not) in a sync. */
export interface SyncResult {
  author: string
  /** Entries verified and stored. */
  added: number
  /** The local length after the sync. */
  length: number
  /** Why the sync of this log stopped early: a `LogVerificationError` (nothing of the bad batch was stored) or a transport error. */
  error?: Error
}

export interface LogReplicator extends TypedEventTarget<ReplicatorEvents> {
  readonly protocol: string
  /** Is `author` a member of the mesh as the default `accept` knows it? (Always true with a custom `accept`.) */
  isMember(author: string): boolean
  /** Registers the protocol handler, so that peers can fetch the logs this peer stores. */
  start(options?: AbortOptions): Promise<void>
  stop(options?: AbortOptions): Promise<void>
  /** Asks `peer` for its heads and fetches, verifies and stores what it has beyond ours. Rejects with the signal's reason once aborted. */
  sync(peer: PeerId, options?: AbortOptions & { authors?: readonly string[] }): Promise<SyncResult[]>
  /** Fetches one range of one author's log from `peer`, unverified (for tools and tests). */
  fetchRange(peer: PeerId, author: string, from: number, to: number, options?: AbortOptions): Promise<{ head: LogHead, entries: unknown[] }>
}

/** The remote answered something that is not a valid reply. */
export class ReplicationProtocolError extends Error {
  readonly code = 'ERR_REPLICATION_PROTOCOL'
  constructor (message: string) {
    super(message)
    this.name = 'ReplicationProtocolError'
  }
}

type Request =
  | { op: 'heads' }
  | { op: 'range', author: string, from: number, to: number }

type Reply =
  | { op: 'heads', heads: LogHead[] }
  | { op: 'range', author: string, head: LogHead, entries: LogEntry[] }
  | { op: 'error', code: string, message: string }

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isHead (v: unknown): v is LogHead {
  return isRecord(v) && typeof v.author === 'string' && Number.isSafeInteger(v.length) && (v.length as number) >= 0 &&
    (v.hash === null || typeof v.hash === 'string')
}

/**
 * Creates the log replicator. Each request is one stream: the asker writes one
 * length-prefixed (unsigned varint) JSON request, the answerer one JSON reply, and both close.
 *
 * - `{ "op": "heads" }` → `{ "op": "heads", "heads": [{ "author", "length", "hash" }] }`
 * - `{ "op": "range", "author", "from", "to" }` → `{ "op": "range", "author", "head", "entries": [...] }`
 *   (entries `from` ≤ seq < `to`, at most `maxEntriesPerRequest`, possibly fewer)
 * - any failure → `{ "op": "error", "code", "message" }`
 *
 * Entries fetched are verified (author, sequence, chain to the local head, hash, signature)
 * before anything is stored; a bad batch is refused whole.
 */
export function createLogReplicator (init: ReplicatorInit): LogReplicator {
  const { components, store } = init
  const protocol = init.protocol ?? LOG_PROTOCOL
  const maxEntries = init.maxEntriesPerRequest ?? 256
  const maxFrame = init.maxFrameBytes ?? 4 * 1024 * 1024
  const timeoutMs = init.requestTimeoutMs ?? 10_000
  const maxPerAuthor = init.maxEntriesPerAuthor ?? 100_000
  const now = init.now ?? Date.now
  const events = new TypedEventEmitter<ReplicatorEvents>()
  const members = init.accept === undefined ? meshMembers(components, init.maxMembers ?? 10_000) : undefined
  const accept = init.accept ?? ((author: string) => members?.has(author) === true)
  const locks = new Map<string, Promise<unknown>>()

  const answer = (req: unknown): Reply => {
    if (!isRecord(req)) return { op: 'error', code: 'ERR_BAD_REQUEST', message: 'request must be an object' }
    if (req.op === 'heads') return { op: 'heads', heads: store.logHeads() }
    if (req.op === 'range') {
      const { author, from, to } = req
      if (typeof author !== 'string' || !Number.isSafeInteger(from) || !Number.isSafeInteger(to) || (from as number) < 0) {
        return { op: 'error', code: 'ERR_BAD_REQUEST', message: 'range needs author, from and to' }
      }
      const head = store.logHead(author)
      const end = Math.min(to as number, head.length, (from as number) + maxEntries)
      const entries: LogEntry[] = []
      let bytes = 1024
      for (const e of end > (from as number) ? store.logRange(author, from as number, end) : []) {
        bytes += Buffer.byteLength(JSON.stringify(e)) + 1 // the frame limit is in UTF-8 bytes, not UTF-16 units
        if (bytes > maxFrame && entries.length > 0) break
        entries.push(e)
      }
      return { op: 'range', author, head, entries }
    }
    return { op: 'error', code: 'ERR_BAD_REQUEST', message: 'unknown op' }
  }

  const handler = async (stream: Stream): Promise<void> => {
    const lp = lpStream(stream, { maxDataLength: maxFrame })
    const signal = AbortSignal.timeout(timeoutMs)
    try {
      const raw = await lp.read({ signal })
      let reply: Reply
      try {
        reply = answer(JSON.parse(decoder.decode(raw.subarray())))
      } catch {
        reply = { op: 'error', code: 'ERR_BAD_REQUEST', message: 'request is not JSON' }
      }
      await lp.write(encoder.encode(JSON.stringify(reply)), { signal })
      await stream.close({ signal })
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  const request = async (peer: PeerId, req: Request, options: AbortOptions = {}): Promise<Reply> => {
    const signal = options.signal === undefined ? AbortSignal.timeout(timeoutMs) : AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)])
    const stream = await components.dialProtocol(peer, protocol, { signal })
    try {
      const lp = lpStream(stream, { maxDataLength: maxFrame })
      await lp.write(encoder.encode(JSON.stringify(req)), { signal })
      const raw = await lp.read({ signal })
      await stream.close({ signal })
      let reply: unknown
      try {
        reply = JSON.parse(decoder.decode(raw.subarray()))
      } catch {
        throw new ReplicationProtocolError('reply is not UTF-8 JSON')
      }
      if (!isRecord(reply) || typeof reply.op !== 'string') throw new ReplicationProtocolError('reply has no op')
      if (reply.op === 'error') throw new ReplicationProtocolError(`remote error ${String(reply.code)}: ${String(reply.message)}`)
      if (reply.op !== req.op) throw new ReplicationProtocolError(`asked ${req.op}, got ${reply.op}`)
      return reply as Reply
    } catch (err) {
      if (stream.status === 'open') stream.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  const fetchRange = async (peer: PeerId, author: string, from: number, to: number, options: AbortOptions = {}): Promise<{ head: LogHead, entries: unknown[] }> => {
    const reply = await request(peer, { op: 'range', author, from, to }, options)
    if (reply.op !== 'range' || reply.author !== author || !isHead(reply.head) || !Array.isArray(reply.entries)) {
      throw new ReplicationProtocolError('malformed range reply')
    }
    return { head: reply.head, entries: reply.entries }
  }

  /** The entry at `seq` of the remote's copy of `author`'s log (unverified), or undefined. */
  const remoteEntry = async (peer: PeerId, author: string, seq: number, options: AbortOptions): Promise<LogEntry | undefined> => {
    const { entries } = await fetchRange(peer, author, seq, seq + 1, options)
    const e = entries[0] as LogEntry | undefined
    return e?.seq === seq ? e : undefined
  }

  /**
   * The remote's copy of `author`'s log differs from ours at or before `differsAt` (< our
   * length). Finds the first sequence number where they differ (binary search over entry
   * hashes: equal hashes at a seq mean equal logs up to it), and checks that the remote's entry
   * there is validly signed by the author: then the author signed two entries at that seq.
   * The evidence is kept, announced, and thrown as a `LogForkError` carrying it.
   */
  const findEquivocation = async (peer: PeerId, author: string, differsAt: number, options: AbortOptions): Promise<never> => {
    const ours = (seq: number): LogEntry => store.logRange(author, seq, seq + 1)[0] as LogEntry
    const fetched = new Map<number, LogEntry | undefined>()
    const at = await firstDifference(differsAt, async (seq) => {
      const e = await remoteEntry(peer, author, seq, options)
      fetched.set(seq, e)
      return e !== undefined && e.hash === ours(seq).hash
    })
    const theirs = fetched.has(at) ? fetched.get(at) : await remoteEntry(peer, author, at, options)
    if (theirs === undefined) throw new ReplicationProtocolError(`peer did not send entry ${at} of ${author}`)
    // Signed by the author, at this seq? (Throws the verification error otherwise: not the author's doing.)
    await verifyLogEntries(author, [theirs], { after: { length: at, hash: theirs.prev }, signal: options.signal })
    const mine = ours(at)
    if (theirs.hash === mine.hash) throw new LogChainError(author, differsAt + 1)
    const evidence = equivocation(mine, theirs, now())
    store.recordEquivocation?.(evidence)
    events.safeDispatchEvent('equivocation', { detail: evidence })
    throw new LogForkError(author, at, [signedFieldsOf(mine), signedFieldsOf(theirs)])
  }

  const syncAuthor = async (peer: PeerId, remote: LogHead, options: AbortOptions): Promise<SyncResult> => {
    const author = remote.author
    let added = 0
    let local = store.logHead(author)
    try {
      if (remote.length < local.length && peer.toString() === author) {
        // The author itself now serves less than it once signed: it truncated its own log.
        throw new LogTruncatedError(author, remote.length, local.length)
      }
      if (remote.length <= local.length) {
        // Same prefix? A different entry at the remote's head means the logs part somewhere.
        if (remote.length > 0) {
          const ours = store.logRange(author, remote.length - 1, remote.length)[0]
          if (ours !== undefined && ours.hash !== remote.hash) await findEquivocation(peer, author, remote.length - 1, options)
        }
        return { author, added, length: local.length }
      }
      const target = Math.min(remote.length, maxPerAuthor)
      while (local.length < target) {
        const { entries: fetched } = await fetchRange(peer, author, local.length, target, options)
        if (fetched.length === 0) throw new ReplicationProtocolError(`peer announced ${remote.length} entries but sent none from ${local.length}`)
        const entries = fetched.slice(0, target - local.length)
        const reachesHead = local.length + entries.length >= remote.length
        let head: LogHead
        try {
          head = await verifyLogEntries(author, entries, {
            after: local,
            ...(reachesHead ? { knownHead: { length: remote.length, hash: remote.hash } } : {}),
            signal: options.signal
          })
        } catch (err) {
          // The remote's next entry does not chain to our head: its log parts from ours before it.
          if (err instanceof LogChainError && err.seq === local.length && local.length > 0) await findEquivocation(peer, author, local.length - 1, options)
          throw err
        }
        store.appendLog(author, (entries as LogEntry[]).map(signedFieldsOf))
        added += entries.length
        local = head
      }
      if (remote.length > maxPerAuthor) throw new LogCapError(author, maxPerAuthor, remote.length)
      return { author, added, length: local.length }
    } catch (err) {
      // The caller's abort ends the whole sync; it is not one log's failure.
      if (options.signal?.aborted === true) throw options.signal.reason
      return { author, added, length: store.logHead(author).length, error: err instanceof Error ? err : new Error(String(err)) }
    }
  }

  const withLock = async <T>(author: string, fn: () => Promise<T>): Promise<T> => {
    const prev = locks.get(author) ?? Promise.resolve()
    const run = prev.then(fn, fn)
    const tail = run.catch(() => {})
    locks.set(author, tail)
    try {
      return await run
    } finally {
      if (locks.get(author) === tail) locks.delete(author)
    }
  }

  return Object.assign(events, {
    protocol,
    isMember: (author: string) => members === undefined || members.has(author),
    async start (options: AbortOptions = {}) {
      members?.start()
      await components.handle(protocol, handler, { signal: options.signal })
    },
    async stop (options: AbortOptions = {}) {
      members?.stop()
      await components.unhandle(protocol, options)
    },
    async sync (peer: PeerId, options: AbortOptions & { authors?: readonly string[] } = {}) {
      const reply = await request(peer, { op: 'heads' }, options)
      if (reply.op !== 'heads' || !Array.isArray(reply.heads)) throw new ReplicationProtocolError('malformed heads reply')
      const wanted = options.authors !== undefined ? new Set(options.authors) : undefined
      const results: SyncResult[] = []
      for (const remote of reply.heads as unknown[]) {
        if (!isHead(remote)) throw new ReplicationProtocolError('malformed head in heads reply')
        if (wanted !== undefined && !wanted.has(remote.author)) continue
        if (!isCanonicalAuthor(remote.author)) {
          // Another spelling of a key (or no key): refused before anything else, so that one key
          // has one log, and the truncation check below, which compares peer ids, holds.
          results.push({ author: remote.author, added: 0, length: 0, error: new LogAuthorIdError(remote.author) })
          continue
        }
        if (!accept(remote.author)) continue
        results.push(await withLock(remote.author, async () => syncAuthor(peer, remote, options)))
      }
      return results
    },
    fetchRange
  })
}

/**
 * The mesh's members as this node sees them: itself, the peers subscribed to its topics, and
 * every signer of a valid message that arrived on them (gossipsub emits `message` only for
 * messages its validators accepted). At most `max` are remembered, the oldest seen first out.
 */
function meshMembers (components: ReplicatorComponents, max: number): { has: (author: string) => boolean, start: () => void, stop: () => void } {
  const pubsub = components.services?.pubsub
  if (pubsub === undefined) {
    throw new TypeError('createLogReplicator: pass `accept`, or a node with a pubsub service (the mesh\'s) to keep the logs of the mesh\'s members')
  }
  const self = components.peerId?.toString()
  const seen = new Map<string, true>()
  const remember = (id: string): void => {
    seen.delete(id)
    seen.set(id, true)
    if (seen.size > max) seen.delete(seen.keys().next().value as string)
  }
  const onMessage = (evt: CustomEvent<{ topic: string, from?: PeerId }>): void => {
    const from = evt.detail.from
    if (from !== undefined && pubsub.getTopics().includes(evt.detail.topic)) remember(from.toString())
  }
  let listening = false
  return {
    has (author) {
      if (author === self || seen.has(author)) return true
      for (const topic of pubsub.getTopics()) {
        if (pubsub.getSubscribers(topic).some((p) => p.toString() === author)) {
          remember(author)
          return true
        }
      }
      return false
    },
    start () {
      if (listening) return
      listening = true
      pubsub.addEventListener('message', onMessage)
    },
    stop () {
      if (!listening) return
      listening = false
      pubsub.removeEventListener('message', onMessage)
    }
  }
}

