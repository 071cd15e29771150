import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { announce, claim, helpRequest, helpResponse, result, T0 } from './builders.test.util.js'
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
  LogTruncatedError,
  LogVerificationError
} from './log-errors.js'
import { createSignedLog, isCanonicalAuthor, logEntryForMessage, logEntryHash, LogConflictError, verifyLog, verifyLogEntries, type LogEntry, type SignedLog } from './log.js'
import type { JsonValue } from './canonical.js'
import { createMemoryStore } from './memory-store.js'

let key: PrivateKey
let otherKey: PrivateKey
let log: SignedLog
let entries: LogEntry[]

async function resign (e: LogEntry, k: PrivateKey): Promise<LogEntry> {
  const hash = logEntryHash(e)
  return { ...e, hash, signature: Buffer.from(await k.sign(Buffer.from(hash, 'hex'))).toString('base64') }
}

beforeAll(async () => {
  key = await generateKeyPair('Ed25519')
  otherKey = await generateKeyPair('Ed25519')
  let t = T0
  log = createSignedLog({ privateKey: key, store: createMemoryStore(), clock: () => (t += 1000) })
  await log.append('peer_joined', { node: log.author })
  for (const m of [announce('#1', T0), claim('#1', log.author, T0), helpRequest('#1', log.author, T0), helpResponse('#1', 'x', T0), result('#1', log.author, T0)]) {
    const e = logEntryForMessage(m)!
    await log.append(e.type, e.payload)
  }
  await log.append('peer_left', { node: log.author })
  entries = log.range(0, log.head().length)
})

describe('signed log', () => {
  it('chains, signs and verifies the entries it appends', async () => {
    expect(entries.map((e) => e.type)).toEqual(['peer_joined', 'task_announced', 'task_claimed', 'help_requested', 'help_offered', 'task_completed', 'peer_left'])
    expect(entries.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(entries[0]!.prev).toBeNull()
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prev).toBe(entries[i - 1]!.hash)
    expect(log.author).toBe(peerIdFromPrivateKey(key).toString())
    await expect(log.verify()).resolves.toEqual({ author: log.author, length: 7, hash: entries[6]!.hash })
    await expect(log.verify({ knownHead: { length: 3, hash: entries[2]!.hash } })).resolves.toMatchObject({ length: 7 })
  })

  it('serialises concurrent appends', async () => {
    const l = createSignedLog({ privateKey: key, store: createMemoryStore() })
    const out = await Promise.all(Array.from({ length: 20 }, async (_, i) => l.append('task_progress', { i })))
    expect(out.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i))
    await expect(l.verify()).resolves.toMatchObject({ length: 20 })
  })

  it('refuses a payload JSON cannot hold exactly, and a bad type', async () => {
    const l = createSignedLog({ privateKey: key, store: createMemoryStore() })
    await expect(l.append('task_progress', { x: Number.NaN })).rejects.toThrow(/finite/)
    await expect(l.append('Bad Type', {})).rejects.toThrow(TypeError)
    expect(l.head().length).toBe(0)
  })

  it('detects a changed entry', async () => {
    const changed = entries.map((e) => ({ ...e }))
    changed[3] = { ...changed[3]!, payload: { evil: true } }
    await expect(verifyLog(log.author, changed)).rejects.toMatchObject({ name: 'LogHashError', seq: 3, code: 'ERR_LOG_HASH' })
    // Changed with its hash recomputed: the signature no longer matches.
    changed[3] = { ...changed[3], hash: logEntryHash(changed[3]) }
    await expect(verifyLog(log.author, changed)).rejects.toBeInstanceOf(LogSignatureError)
    // Changed and re-signed by someone else's key: still the wrong signature.
    changed[3] = await resign(changed[3], otherKey)
    await expect(verifyLog(log.author, changed)).rejects.toMatchObject({ name: 'LogSignatureError', seq: 3 })
  })

  it('detects every kind of single-field tampering (property)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 0, max: 6 }),
      fc.constantFrom('seq', 'prev', 'time', 'type', 'payload', 'hash', 'signature', 'author'),
      async (i, field) => {
        const t = entries.map((e) => ({ ...e }))
        const e = t[i]!
        const mutated: Record<string, unknown> = { ...e }
        switch (field) {
          case 'seq': mutated.seq = e.seq + 1; break
          case 'prev': mutated.prev = 'f'.repeat(64); break
          case 'time': mutated.time = e.time + 1; break
          case 'type': mutated.type = 'task_failed'; break
          case 'payload': mutated.payload = { x: 1 }; break
          case 'hash': mutated.hash = '0'.repeat(64); break
          case 'signature': mutated.signature = Buffer.from(new Uint8Array(64).fill(7)).toString('base64'); break
          case 'author': mutated.author = peerIdFromPrivateKey(otherKey).toString(); break
        }
        t[i] = mutated as unknown as LogEntry
        const err = await verifyLog(log.author, t).then(() => undefined, (x: unknown) => x)
        expect(err).toBeInstanceOf(LogVerificationError)
        expect((err as LogVerificationError).seq).toBe(i)
      }
    ), { numRuns: 60 })
  })

  it('detects a removed entry', async () => {
    const removed = entries.filter((e) => e.seq !== 2)
    await expect(verifyLog(log.author, removed)).rejects.toMatchObject({ name: 'LogGapError', seq: 2, found: 3 })
    await expect(verifyLog(log.author, removed)).rejects.toBeInstanceOf(LogGapError)
    // Removed and renumbered: the chain and the signatures give it away.
    const renumbered = removed.map((e, i) => ({ ...e, seq: i }))
    await expect(verifyLog(log.author, renumbered)).rejects.toBeInstanceOf(LogChainError)
    // Renumbered and re-chained: the hashes no longer match the signatures.
    const rechained: LogEntry[] = []
    for (const [i, e] of removed.entries()) {
      const x = { ...e, seq: i, prev: i === 0 ? null : rechained[i - 1]!.hash }
      rechained.push({ ...x, hash: logEntryHash(x) })
    }
    await expect(verifyLog(log.author, rechained)).rejects.toMatchObject({ name: 'LogSignatureError', seq: 2 })
  })

  it('detects reordered entries', async () => {
    const swapped = [...entries]
    ;[swapped[2], swapped[4]] = [swapped[4]!, swapped[2]!]
    await expect(verifyLog(log.author, swapped)).rejects.toMatchObject({ name: 'LogReorderError', seq: 2, found: 4 })
    const repeated = [...entries.slice(0, 3), entries[1]!, ...entries.slice(3)]
    await expect(verifyLog(log.author, repeated)).rejects.toBeInstanceOf(LogReorderError)
  })

  it('detects truncation against a known head, and a fork', async () => {
    const head = { length: entries.length, hash: entries.at(-1)!.hash }
    await expect(verifyLog(log.author, entries.slice(0, 5), { knownHead: head })).rejects.toMatchObject({ name: 'LogTruncatedError', length: 5, knownLength: 7 })
    await expect(verifyLog(log.author, [], { knownHead: head })).rejects.toBeInstanceOf(LogTruncatedError)
    // The author signs a different entry 6: a fork of its own log.
    const forked = [...entries.slice(0, 6), await resign({ ...entries[6]!, payload: { other: true } }, key)]
    await expect(verifyLog(log.author, forked)).resolves.toMatchObject({ length: 7 })
    await expect(verifyLog(log.author, forked, { knownHead: head })).rejects.toBeInstanceOf(LogForkError)
  })

  it('refuses a forged entry from a third party, and entries of another author', async () => {
    const forger = peerIdFromPrivateKey(otherKey).toString()
    const forged = await resign({ ...entries[6]!, seq: 7, prev: entries[6]!.hash, type: 'task_completed', payload: { task: 'x' } }, otherKey)
    await expect(verifyLogEntries(log.author, [forged], { after: { length: 7, hash: entries[6]!.hash } })).rejects.toBeInstanceOf(LogSignatureError)
    await expect(verifyLog(forger, entries)).rejects.toBeInstanceOf(LogAuthorError)
  })

  it('verifies what it appends, whatever the JSON payload, null included', async () => {
    const l = createSignedLog({ privateKey: key, store: createMemoryStore() })
    for (const payload of [null, 0, '', false, [], {}, { nested: [null] }] as JsonValue[]) await l.append('task_progress', payload)
    await expect(l.verify()).resolves.toMatchObject({ length: 7 })
  })

  it('refuses a sparse array in a payload, so that no entry can break after a JSON round trip', async () => {
    const l = createSignedLog({ privateKey: key, store: createMemoryStore() })
    // eslint-disable-next-line no-sparse-arrays
    await expect(l.append('task_progress', { steps: [1, , 3] as unknown as JsonValue })).rejects.toThrow(/hole/)
    expect(l.head().length).toBe(0)
    // An entry offered with a sparse payload is malformed (it could not have been hashed as sent).
    const sparse = { ...entries[0]!, payload: [1, , 3] as unknown as JsonValue } // eslint-disable-line no-sparse-arrays
    await expect(verifyLog(log.author, [sparse])).rejects.toBeInstanceOf(LogMalformedError)
  })

  it('accepts only the canonical peer id of an Ed25519 key as a log\'s author, not the CID spellings of the same key', async () => {
    const cid = peerIdFromPrivateKey(key).toCID()
    const k51 = `k${BigInt(`0x${Buffer.from(cid.bytes).toString('hex')}`).toString(36)}` // base36, as IPNS names spell keys
    for (const alias of [cid.toString(), k51]) {
      expect(alias).not.toBe(log.author)
      expect(peerIdFromString(alias).toString()).toBe(log.author) // libp2p takes it for the same key
      // The same key signs a second log under the alias: every signature verifies with it.
      const aliased: LogEntry[] = []
      for (const e of entries.slice(0, 2)) aliased.push(await resign({ ...e, author: alias, prev: aliased.at(-1)?.hash ?? null }, key))
      await expect(verifyLog(alias, aliased)).rejects.toBeInstanceOf(LogAuthorIdError)
      await expect(verifyLog(alias, [])).rejects.toBeInstanceOf(LogAuthorIdError)
    }
    expect(isCanonicalAuthor(log.author)).toBe(true)
    expect(isCanonicalAuthor(cid.toString())).toBe(false)
    expect(isCanonicalAuthor('not a peer id')).toBe(false)
  })

  it('accepts a signature only in its canonical base64 spelling', async () => {
    const sig = entries[0]!.signature
    // Node's base64 decoder skips characters outside the alphabet: these decode to the same 64 bytes.
    for (const spelling of [`${sig.slice(0, 10)}\n${sig.slice(10)}`, `${sig.slice(0, 10)}*${sig.slice(10)}`, sig.replace(/=+$/, '')]) {
      expect(Buffer.from(spelling, 'base64').equals(Buffer.from(sig, 'base64'))).toBe(true)
      await expect(verifyLog(log.author, [{ ...entries[0]!, signature: spelling }, ...entries.slice(1)])).rejects.toBeInstanceOf(LogSignatureError)
    }
    await expect(verifyLog(log.author, entries)).resolves.toMatchObject({ length: 7 })
  })

  it('refuses malformed entries and checks the continuation point', async () => {
    await expect(verifyLog(log.author, [{ ...entries[0], seq: -1 }])).rejects.toBeInstanceOf(LogMalformedError)
    await expect(verifyLog(log.author, [null])).rejects.toBeInstanceOf(LogMalformedError)
    await expect(verifyLog(log.author, [{ ...entries[0], payload: undefined }])).rejects.toBeInstanceOf(LogMalformedError)
    await expect(verifyLogEntries(log.author, entries.slice(3), { after: { length: 3, hash: entries[2]!.hash } })).resolves.toMatchObject({ length: 7 })
    await expect(verifyLogEntries(log.author, entries.slice(3), { after: { length: 3, hash: entries[1]!.hash } })).rejects.toBeInstanceOf(LogChainError)
    await expect(verifyLog(log.author, [{ ...entries[0]!, payload: { changed: true } }])).rejects.toBeInstanceOf(LogHashError)
    await expect(verifyLog('not-a-peer-id', [])).rejects.toBeInstanceOf(LogAuthorIdError)
    await expect(verifyLog('not-a-peer-id', entries.slice(0, 1).map((e) => ({ ...e, author: 'not-a-peer-id' })))).rejects.toBeInstanceOf(LogAuthorIdError)
  })

  it('the store refuses an append that does not continue the log', () => {
    const store = createMemoryStore()
    store.appendLog(log.author, entries.slice(0, 2))
    expect(() => store.appendLog(log.author, entries.slice(3, 4))).toThrow(LogConflictError)
    expect(store.logHead(log.author)).toEqual({ author: log.author, length: 2, hash: entries[1]!.hash })
  })
})

describe('logEntryForMessage', () => {
  it('maps mesh messages to log entries', () => {
    expect(logEntryForMessage(claim('#1', 'a', T0, { state: 'released' }))?.type).toBe('task_released')
    expect(logEntryForMessage(claim('#1', 'a', T0, { state: 'running' }))?.type).toBe('task_progress')
    expect(logEntryForMessage(result('#1', 'a', T0, { result_type: 'failure', reason: 'x' }))?.type).toBe('task_failed')
    expect(logEntryForMessage(helpRequest('#1', 'a', T0, { accepted_node: 'b' }))).toMatchObject({ type: 'help_accepted', payload: { helper: 'b' } })
    expect(logEntryForMessage(helpResponse('#1', 'a', T0, { can_help: false }))).toBeUndefined()
  })
})
