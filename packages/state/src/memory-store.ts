import type { LedgerStore, PeerRecord } from './ledger.js'
import { LogConflictError, type Equivocation, type LogEntry, type LogHead, type LogStore } from './log.js'
import type { TaskMessage } from './task.js'

/** A store that keeps everything in memory: for tests, simulations and throwaway peers. */
export interface MemoryStore extends LogStore, LedgerStore {
  recordEquivocation(evidence: Equivocation): void
  equivocations(author?: string): Equivocation[]
}

export function createMemoryStore (): MemoryStore {
  const logs = new Map<string, LogEntry[]>()
  const messages = new Map<string, { message: TaskMessage, receivedAt: number }>()
  const peers = new Map<string, PeerRecord>()
  const evidence = new Map<string, Equivocation>()
  return {
    logHead (author): LogHead {
      const log = logs.get(author) ?? []
      return { author, length: log.length, hash: log.at(-1)?.hash ?? null }
    },
    logHeads () {
      return [...logs.keys()].sort().map((a) => this.logHead(a))
    },
    logRange (author, from, to) {
      return (logs.get(author) ?? []).slice(Math.max(0, from), Math.max(0, to)).map((e) => structuredClone(e))
    },
    appendLog (author, entries) {
      const first = entries[0]
      if (first === undefined) return
      const log = logs.get(author) ?? []
      if (first.seq !== log.length) throw new LogConflictError(author, first.seq, log.length)
      // Copied first, then added in place: all or nothing, and no copy of the whole log per append
      // (a long-running peer appends thousands of entries).
      const copies = entries.map((e) => structuredClone(e))
      for (const e of copies) log.push(e)
      logs.set(author, log)
    },
    recordEquivocation (e) {
      const id = `${e.author}/${e.seq}/${e.entries[0].hash}/${e.entries[1].hash}`
      if (!evidence.has(id)) evidence.set(id, structuredClone(e))
    },
    equivocations (author) {
      return [...evidence.values()].filter((e) => author === undefined || e.author === author).map((e) => structuredClone(e))
    },
    loadLedger () {
      return { messages: [...messages.values()], peers: [...peers.values()] }
    },
    saveLedger (change) {
      if (change.message !== undefined) messages.set(change.message.id, { message: change.message.message, receivedAt: change.message.receivedAt })
      // A record's messages are never changed once observed: a shallow copy is enough.
      if (change.peer !== undefined) peers.set(change.peer.nodeId, { ...change.peer })
    }
  }
}
