import type { AbortOptions, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { LogAuthorIdError, LogForkError, LogTruncatedError } from './log-errors.js'
import { isCanonicalAuthor, signedFieldsOf, verifyLogEntries, type LogEntry, type LogHead, type LogStore } from './log.js'

/** The stream protocol of log replication. */
export const LOG_PROTOCOL = '/bzzz/log/1.0.0'

/** The part of a libp2p node the replicator uses; pass the mesh's node. */
export type ReplicatorComponents = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>

export interface ReplicatorInit {
  components: ReplicatorComponents
  store: LogStore
  /** Which authors' logs to fetch and keep. Default: every author offered. */
  accept?: (author: string) => boolean
  /** Most entries per range answer (and per request). Default 256. */
  maxEntriesPerRequest?: number
  /** Largest frame read or written, in bytes. Default 4 MiB. */
  maxFrameBytes?: number
  /** Time limit of one request, in ms, on top of any signal passed. Default 10000. */
  requestTimeoutMs?: number
  protocol?: string
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

export interface LogReplicator {
  readonly protocol: string
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
  const accept = init.accept ?? (() => true)
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
        // Same prefix? A different, validly signed entry at the remote's head is a fork by the author.
        if (remote.length > 0) {
          const ours = store.logRange(author, remote.length - 1, remote.length)[0]
          if (ours !== undefined && ours.hash !== remote.hash) {
            const { entries } = await fetchRange(peer, author, remote.length - 1, remote.length, options)
            await verifyLogEntries(author, entries.slice(0, 1), { after: { length: remote.length - 1, hash: ours.prev }, signal: options.signal })
            if ((entries[0] as LogEntry | undefined)?.hash !== ours.hash) throw new LogForkError(author, remote.length - 1)
          }
        }
        return { author, added, length: local.length }
      }
      while (local.length < remote.length) {
        const { entries } = await fetchRange(peer, author, local.length, remote.length, options)
        if (entries.length === 0) throw new ReplicationProtocolError(`peer announced ${remote.length} entries but sent none from ${local.length}`)
        const reachesHead = local.length + entries.length >= remote.length
        const head = await verifyLogEntries(author, entries, {
          after: local,
          ...(reachesHead ? { knownHead: { length: remote.length, hash: remote.hash } } : {}),
          signal: options.signal
        })
        store.appendLog(author, (entries as LogEntry[]).map(signedFieldsOf))
        added += entries.length
        local = head
      }
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

  return {
    protocol,
    async start (options = {}) {
      await components.handle(protocol, handler, { signal: options.signal })
    },
    async stop (options = {}) {
      await components.unhandle(protocol, options)
    },
    async sync (peer, options = {}) {
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
  }
}

