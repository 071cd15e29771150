import { DatabaseSync, type StatementSync } from 'node:sqlite'
import type { LedgerStore, PeerRecord } from './ledger.js'
import { LogConflictError, type Equivocation, type LogEntry, type LogHead, type LogStore } from './log.js'
import type { TaskMessage } from './task.js'

export interface StateStoreInit {
  /** The SQLite file (created if missing), or `:memory:`. */
  path: string
  /**
   * `full` (default): every acknowledged write is fsynced, surviving a power cut as well as
   * a killed process. `normal`: in WAL mode, a killed process still loses nothing
   * acknowledged (the WAL is written before a commit returns), but a power cut may lose the
   * latest commits; several times faster on slow disks.
   */
  synchronous?: 'full' | 'normal'
}

/** The SQLite store of the ledger and the logs. Every method is synchronous and atomic. */
export interface StateStore extends LogStore, LedgerStore {
  readonly path: string
  recordEquivocation(evidence: Equivocation): void
  equivocations(author?: string): Equivocation[]
  close(): void
}

const SCHEMA_VERSION = 1

/** Thrown when the file was written by a newer, incompatible version of this package. */
export class StoreVersionError extends Error {
  readonly code = 'ERR_STORE_VERSION'
  readonly found: number
  readonly supported: number
  constructor (found: number) {
    super(`state store has schema version ${found}; this version of @bzzz/state reads ${SCHEMA_VERSION}`)
    this.name = 'StoreVersionError'
    this.found = found
    this.supported = SCHEMA_VERSION
  }
}

/**
 * Opens (or creates) the state database through Node's built-in `node:sqlite`: WAL journal,
 * `synchronous=FULL` by default, one transaction per write. A write whose call has returned
 * survives `kill -9` at any moment after.
 */
export function openStateStore (init: StateStoreInit): StateStore {
  const db = new DatabaseSync(init.path, { timeout: 5000 })
  try {
    db.exec('PRAGMA journal_mode = WAL')
    db.exec(`PRAGMA synchronous = ${init.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS log_entries (
        author TEXT NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (author, seq)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS ledger_messages (
        id TEXT PRIMARY KEY, task_key TEXT NOT NULL, received_at REAL NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS peers (node_id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS log_equivocations (
        author TEXT NOT NULL, seq INTEGER NOT NULL, hash_a TEXT NOT NULL, hash_b TEXT NOT NULL,
        detected_at REAL NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (author, seq, hash_a, hash_b)) WITHOUT ROWID;
    `)
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined
    if (row === undefined) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION))
    } else if (Number(row.value) !== SCHEMA_VERSION) {
      throw new StoreVersionError(Number(row.value))
    }
  } catch (err) {
    db.close()
    throw err
  }

  const q = {
    head: db.prepare('SELECT seq, hash FROM log_entries WHERE author = ? ORDER BY seq DESC LIMIT 1'),
    heads: db.prepare('SELECT author, MAX(seq) AS seq FROM log_entries GROUP BY author ORDER BY author'),
    range: db.prepare('SELECT body FROM log_entries WHERE author = ? AND seq >= ? AND seq < ? ORDER BY seq'),
    insertEntry: db.prepare('INSERT INTO log_entries (author, seq, hash, body) VALUES (?, ?, ?, ?)'),
    messages: db.prepare('SELECT body, received_at FROM ledger_messages ORDER BY id'),
    insertMessage: db.prepare('INSERT OR IGNORE INTO ledger_messages (id, task_key, received_at, body) VALUES (?, ?, ?, ?)'),
    peers: db.prepare('SELECT body FROM peers ORDER BY node_id'),
    insertEquivocation: db.prepare('INSERT OR IGNORE INTO log_equivocations (author, seq, hash_a, hash_b, detected_at, body) VALUES (?, ?, ?, ?, ?, ?)'),
    equivocations: db.prepare('SELECT body FROM log_equivocations ORDER BY detected_at, author, seq'),
    equivocationsOf: db.prepare('SELECT body FROM log_equivocations WHERE author = ? ORDER BY detected_at, seq'),
    upsertPeer: db.prepare('INSERT INTO peers (node_id, body) VALUES (?, ?) ON CONFLICT (node_id) DO UPDATE SET body = excluded.body')
  } satisfies Record<string, StatementSync>

  const transaction = (fn: () => void): void => {
    db.exec('BEGIN IMMEDIATE')
    try {
      fn()
      db.exec('COMMIT')
    } catch (err) {
      // SQLite rolls back by itself on some errors (disk full, I/O): a ROLLBACK then would
      // throw "no transaction is active" and hide the error that matters.
      if (db.isTransaction) db.exec('ROLLBACK')
      throw err
    }
  }

  const logHead = (author: string): LogHead => {
    const r = q.head.get(author) as { seq: number, hash: string } | undefined
    return r === undefined ? { author, length: 0, hash: null } : { author, length: r.seq + 1, hash: r.hash }
  }

  let open = true
  return {
    path: init.path,
    logHead,
    logHeads () {
      return (q.heads.all() as Array<{ author: string }>).map((r) => logHead(r.author))
    },
    logRange (author, from, to) {
      return (q.range.all(author, from, to) as Array<{ body: string }>).map((r) => JSON.parse(r.body) as LogEntry)
    },
    appendLog (author, entries) {
      const first = entries[0]
      if (first === undefined) return
      transaction(() => {
        const { length } = logHead(author)
        if (first.seq !== length) throw new LogConflictError(author, first.seq, length)
        for (const e of entries) q.insertEntry.run(author, e.seq, e.hash, JSON.stringify(e))
      })
    },
    recordEquivocation (e) {
      transaction(() => {
        q.insertEquivocation.run(e.author, e.seq, e.entries[0].hash, e.entries[1].hash, e.detectedAt, JSON.stringify(e))
      })
    },
    equivocations (author) {
      const rows = (author === undefined ? q.equivocations.all() : q.equivocationsOf.all(author)) as Array<{ body: string }>
      return rows.map((r) => JSON.parse(r.body) as Equivocation)
    },
    loadLedger () {
      return {
        messages: (q.messages.all() as Array<{ body: string, received_at: number }>)
          .map((r) => ({ message: JSON.parse(r.body) as TaskMessage, receivedAt: r.received_at })),
        peers: (q.peers.all() as Array<{ body: string }>).map((r) => JSON.parse(r.body) as PeerRecord)
      }
    },
    saveLedger (change) {
      transaction(() => {
        const m = change.message
        if (m !== undefined) q.insertMessage.run(m.id, m.key, m.receivedAt, JSON.stringify(m.message))
        if (change.peer !== undefined) q.upsertPeer.run(change.peer.nodeId, JSON.stringify(change.peer))
      })
    },
    close () {
      if (!open) return
      open = false
      db.close()
    }
  }
}
