import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import fc from 'fast-check'
import { createLibp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LogAuthorIdError, LogForkError, LogHashError, LogSignatureError, LogTruncatedError } from './log-errors.js'
import { createSignedLog, logEntryHash, verifyLog, verifyLogEntries, type Equivocation, type LogEntry, type SignedLog } from './log.js'
import { createMemoryStore, type MemoryStore } from './memory-store.js'
import { createLogReplicator, LOG_PROTOCOL, ReplicationProtocolError, type LogReplicator } from './replication.js'

interface Peer {
  key: PrivateKey
  node: Libp2p
  store: MemoryStore
  log: SignedLog
  replicator: LogReplicator
}

async function startPeer (): Promise<Peer> {
  const key = await generateKeyPair('Ed25519')
  const node = await createLibp2p({
    privateKey: key,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  const store = createMemoryStore()
  const log = createSignedLog({ privateKey: key, store })
  const replicator = createLogReplicator({ components: node, store, accept: all, maxEntriesPerRequest: 100 })
  await replicator.start()
  return { key, node, store, log, replicator }
}

let a: Peer, b: Peer, c: Peer, d: Peer
const all = (): boolean => true

beforeAll(async () => {
  [a, b, c, d] = await Promise.all([startPeer(), startPeer(), startPeer(), startPeer()])
  for (const [x, y] of [[b, a], [a, b], [b, c], [d, c]] as const) await x.node.dial(y.node.getMultiaddrs())
})

afterAll(async () => {
  await Promise.all([a, b, c, d].filter((p) => p !== undefined).map(async (p) => {
    await p.replicator.stop()
    await p.node.stop()
  }))
})

describe('log replication over libp2p', () => {
  it('copies a peer\'s log by ranges, verified, and then only what is new', async () => {
    for (let i = 0; i < 250; i++) await a.log.append('task_progress', { i, note: 'x'.repeat(i % 50) })
    const first = await b.replicator.sync(a.node.peerId)
    expect(first).toEqual([{ author: a.log.author, added: 250, length: 250 }])
    const copy = b.store.logRange(a.log.author, 0, 250)
    expect(copy).toEqual(a.log.range(0, 250))
    await expect(verifyLog(a.log.author, copy)).resolves.toMatchObject({ length: 250 })

    await a.log.append('task_completed', { task: 'example-org/task-repo#42' })
    expect(await b.replicator.sync(a.node.peerId)).toEqual([{ author: a.log.author, added: 1, length: 251 }])
    expect(await b.replicator.sync(a.node.peerId)).toEqual([{ author: a.log.author, added: 0, length: 251 }])
  })

  it('replicates both ways and relays logs it holds for others', async () => {
    await b.log.append('peer_joined', { node: b.log.author })
    const back = await a.replicator.sync(b.node.peerId)
    expect(back).toEqual([
      ...[{ author: b.log.author, added: 1, length: 1 }, { author: a.log.author, added: 0, length: 251 }]
        .sort((x, y) => (x.author < y.author ? -1 : 1))
    ])
    // c has never met a, but gets a's log from b.
    const relayed = await c.replicator.sync(b.node.peerId, { authors: [a.log.author] })
    expect(relayed).toEqual([{ author: a.log.author, added: 251, length: 251 }])
  })

  it('refuses a forged entry from a third party and stores nothing of it', async () => {
    // c plants, in its own store, an entry that claims to be a's next one, signed with c's key.
    const head = c.store.logHead(a.log.author)
    const fields = { author: a.log.author, seq: head.length, prev: head.hash, time: Date.now(), type: 'task_completed', payload: { task: 'forged' } }
    const hash = logEntryHash(fields)
    const forged: LogEntry = { ...fields, hash, signature: Buffer.from(await c.key.sign(Buffer.from(hash, 'hex'))).toString('base64') }
    c.store.appendLog(a.log.author, [forged])

    const res = await b.replicator.sync(c.node.peerId, { authors: [a.log.author] })
    expect(res).toHaveLength(1)
    expect(res[0]).toMatchObject({ author: a.log.author, added: 0, length: 251 })
    expect(res[0]!.error).toBeInstanceOf(LogSignatureError)
    expect(b.store.logHead(a.log.author)).toEqual(a.log.head())
  })

  it('refuses a whole batch with a changed entry in it', async () => {
    // c's copy now has a's 251 entries plus the forgery; d, a fresh peer, asks c for it all.
    // Change an entry in the middle of c's copy (as a broken or hostile peer would serve it).
    const original = c.store.logRange(a.log.author, 0, 252)
    const tampered = original.map((e) => (e.seq === 150 ? { ...e, payload: { i: 9999 } } : e))
    const bad = createMemoryStore()
    bad.appendLog(a.log.author, tampered)
    const rogue = createLogReplicator({ components: c.node, store: bad, accept: all, maxEntriesPerRequest: 100 })
    await c.replicator.stop()
    await rogue.start()
    try {
      const res = await d.replicator.sync(c.node.peerId)
      expect(res[0]).toMatchObject({ author: a.log.author, added: 100, length: 100 })
      expect(res[0]!.error).toBeInstanceOf(LogHashError)
      expect((res[0]!.error as LogHashError).seq).toBe(150)
      await expect(verifyLog(a.log.author, d.store.logRange(a.log.author, 0, 100))).resolves.toMatchObject({ length: 100 })
    } finally {
      await rogue.stop()
      await c.replicator.start()
    }
  })

  it('detects an author that serves a truncated copy of its own log', async () => {
    const short = createMemoryStore()
    short.appendLog(a.log.author, a.log.range(0, 100))
    const rogue = createLogReplicator({ components: a.node, store: short, accept: all })
    await a.replicator.stop()
    await rogue.start()
    try {
      const res = await b.replicator.sync(a.node.peerId, { authors: [a.log.author] })
      expect(res[0]!.error).toBeInstanceOf(LogTruncatedError)
      expect(res[0]).toMatchObject({ added: 0, length: 251 })
    } finally {
      await rogue.stop()
      await a.replicator.start()
    }
  })

  it('refuses a second log of one key under a CID spelling of its peer id, from the author itself too', async () => {
    // a signs a log under the CID spelling of its own peer id: every signature verifies with
    // a's key, so without the canonical check b would keep a second, shorter log of a that
    // also escapes the truncation check (the serving peer's id is not the alias).
    const alias = a.node.peerId.toCID().toString()
    const second = createMemoryStore()
    const aliased: LogEntry[] = []
    for (const e of a.log.range(0, 3)) {
      const fields = { ...e, author: alias, prev: aliased.at(-1)?.hash ?? null }
      const hash = logEntryHash(fields)
      aliased.push({ ...fields, hash, signature: Buffer.from(await a.key.sign(Buffer.from(hash, 'hex'))).toString('base64') })
    }
    second.appendLog(alias, aliased)
    const rogue = createLogReplicator({ components: a.node, store: second, accept: all })
    await a.replicator.stop()
    await rogue.start()
    try {
      const res = await b.replicator.sync(a.node.peerId)
      expect(res).toHaveLength(1)
      expect(res[0]).toMatchObject({ author: alias, added: 0, length: 0 })
      expect(res[0]!.error).toBeInstanceOf(LogAuthorIdError)
      expect(b.store.logHeads().map((h) => h.author)).not.toContain(alias)
    } finally {
      await rogue.stop()
      await a.replicator.start()
    }
  })

  it('stores only the signed fields of what it fetched, not what a relay added to them', async () => {
    // c relays a's entries with an unsigned field added: they verify, but the addition must not be kept or served on.
    const padded = a.log.range(0, 251).map((e) => ({ ...e, relay_note: 'unsigned, added by c' }))
    const relay = createMemoryStore()
    relay.appendLog(a.log.author, padded)
    const rogue = createLogReplicator({ components: c.node, store: relay, accept: all, maxEntriesPerRequest: 100 })
    await c.replicator.stop()
    await rogue.start()
    try {
      const before = d.store.logHead(a.log.author).length
      const res = await d.replicator.sync(c.node.peerId, { authors: [a.log.author] })
      expect(res).toEqual([{ author: a.log.author, added: 251 - before, length: 251 }])
      const stored = d.store.logRange(a.log.author, 0, 251)
      expect(stored.filter((e) => 'relay_note' in e)).toEqual([])
      expect(stored).toEqual(a.log.range(0, 251))
    } finally {
      await rogue.stop()
      await c.replicator.start()
    }
  })

  it('keeps range replies within the frame limit in bytes when payloads are not ASCII', async () => {
    const protocol = '/bzzz/log-test-frames/1.0.0'
    const serverStore = createMemoryStore()
    const writer = createSignedLog({ privateKey: await generateKeyPair('Ed25519'), store: serverStore })
    // About 1,300 UTF-16 units but 2,300 UTF-8 bytes each.
    for (let i = 0; i < 20; i++) await writer.append('task_progress', { i, note: 'é'.repeat(1000) })
    const server = createLogReplicator({ components: a.node, store: serverStore, accept: all, protocol, maxFrameBytes: 8192 })
    const clientStore = createMemoryStore()
    const client = createLogReplicator({ components: b.node, store: clientStore, accept: all, protocol, maxFrameBytes: 8192 })
    await server.start()
    try {
      const res = await client.sync(a.node.peerId)
      expect(res).toEqual([{ author: writer.author, added: 20, length: 20 }])
      expect(clientStore.logRange(writer.author, 0, 20)).toEqual(writer.range(0, 20))
    } finally {
      await server.stop()
    }
  })

  it('rejects with the abort reason when its signal is aborted during a sync', async () => {
    const controller = new AbortController()
    const reason = new Error('caller gave up')
    const store = createMemoryStore()
    // Abort as soon as the first log's sync begins (after the heads came back).
    const spy: MemoryStore = { ...store, logHead: (author) => { controller.abort(reason); return store.logHead(author) } }
    const replicator = createLogReplicator({ components: b.node, store: spy, accept: all, protocol: '/bzzz/log-test-abort/1.0.0' })
    const server = createLogReplicator({ components: a.node, store: a.store, accept: all, protocol: '/bzzz/log-test-abort/1.0.0' })
    await server.start()
    try {
      await expect(replicator.sync(a.node.peerId, { signal: controller.signal })).rejects.toBe(reason)
      expect(store.logHeads()).toEqual([])
    } finally {
      await server.stop()
    }
  })

  it('answers a bad request with an error frame', async () => {
    const stream = await b.node.dialProtocol(a.node.peerId, LOG_PROTOCOL)
    const { lpStream } = await import('@libp2p/utils')
    const lp = lpStream(stream)
    await lp.write(new TextEncoder().encode('{"op":"nope"}'))
    const reply = JSON.parse(new TextDecoder().decode((await lp.read()).subarray())) as { op: string, code: string }
    expect(reply).toMatchObject({ op: 'error', code: 'ERR_BAD_REQUEST' })
    await stream.close()
    await expect(b.replicator.fetchRange(a.node.peerId, a.log.author, -1, 5)).rejects.toBeInstanceOf(ReplicationProtocolError)
  })
})

describe('equivocation', () => {
  it('finds an author that signed two entries at one seq, at any position, keeps both as evidence and reports it', async () => {
    const e = await startPeer()
    try {
      await b.node.dial(e.node.getMultiaddrs())
      for (let i = 0; i < 10; i++) await e.log.append('task_progress', { i })
      expect(await b.replicator.sync(e.node.peerId, { authors: [e.log.author] })).toEqual([{ author: e.log.author, added: 10, length: 10 }])
      // e signs a second branch from entry 5 on, longer than the first; c relays it.
      const forked = createMemoryStore()
      forked.appendLog(e.log.author, e.log.range(0, 5))
      const other = createSignedLog({ privateKey: e.key, store: forked })
      for (let i = 0; i < 7; i++) await other.append('task_progress', { i, branch: 'other' })
      const reports: Equivocation[] = []
      b.replicator.addEventListener('equivocation', (evt) => { reports.push(evt.detail) })
      const pair = [e.log.range(5, 6)[0]!.hash, other.range(5, 6)[0]!.hash].sort()

      for (const served of [other.range(0, 12), other.range(0, 8)]) { // longer than b's copy, then shorter
        const relay = createMemoryStore()
        relay.appendLog(e.log.author, served)
        const rogue = createLogReplicator({ components: c.node, store: relay, accept: all })
        await c.replicator.stop()
        await rogue.start()
        try {
          const [res] = await b.replicator.sync(c.node.peerId, { authors: [e.log.author] })
          expect(res!.error).toBeInstanceOf(LogForkError)
          expect(res!.error).toMatchObject({ code: 'ERR_LOG_FORK', author: e.log.author, seq: 5 })
          const evidence = (res!.error as LogForkError).evidence!
          expect(evidence.map((x) => x.hash).sort()).toEqual(pair)
          // Both entries verify with e's key: proof that e signed both.
          for (const x of evidence) await expect(verifyLogEntries(e.log.author, [x], { after: { length: 5, hash: x.prev } })).resolves.toMatchObject({ length: 6 })
          // b keeps the branch it saw first.
          expect(b.store.logHead(e.log.author)).toEqual(e.log.head())
        } finally {
          await rogue.stop()
          await c.replicator.start()
        }
      }
      // The evidence is kept once (same pair), and reported on each sync that meets it.
      const kept = b.store.equivocations(e.log.author)
      expect(kept).toHaveLength(1)
      expect(kept[0]).toMatchObject({ author: e.log.author, seq: 5 })
      expect(kept[0]!.entries.map((x) => x.hash)).toEqual(pair)
      expect(reports.map((r) => r.seq)).toEqual([5, 5])
    } finally {
      await e.replicator.stop()
      await e.node.stop()
    }
  })

  it('finds the position where the copies part, wherever it lies and whichever copy is longer', async () => {
    const key = await generateKeyPair('Ed25519')
    const base = createSignedLog({ privateKey: key, store: createMemoryStore() })
    for (let i = 0; i < 40; i++) await base.append('task_progress', { i })
    const protocol = '/bzzz/log-fork-property/1.0.0'
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 40 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 1, max: 45 }))),
      async ([n, k, extra]) => {
        const m = Math.max(k + 1, extra) // the other branch's length: parts at k, ends anywhere after
        const forkStore = createMemoryStore()
        if (k > 0) forkStore.appendLog(base.author, base.range(0, k))
        const other = createSignedLog({ privateKey: key, store: forkStore })
        for (let i = k; i < m; i++) await other.append('task_progress', { i, branch: 'other' })
        const mine = createMemoryStore()
        mine.appendLog(base.author, base.range(0, n))
        const server = createLogReplicator({ components: a.node, store: forkStore, accept: all, protocol })
        const client = createLogReplicator({ components: b.node, store: mine, accept: all, protocol })
        await server.start()
        try {
          const [res] = await client.sync(a.node.peerId, { authors: [base.author] })
          expect(res!.error).toBeInstanceOf(LogForkError)
          expect((res!.error as LogForkError).seq).toBe(k)
          expect(mine.equivocations()).toHaveLength(1)
          expect(mine.logHead(base.author)).toEqual({ ...base.head(), length: n, hash: base.range(n - 1, n)[0]!.hash })
        } finally {
          await server.stop()
        }
      }), { numRuns: 12 })
  })

  it('does not take a relay\'s bad entry for the author\'s equivocation', async () => {
    // c serves a's log with entry 100 replaced by one c signed: not a's signature, so no evidence.
    const tampered = a.log.range(0, 101)
    const fields = { ...tampered[100]!, payload: { forged: true } }
    const hash = logEntryHash(fields)
    tampered[100] = { ...fields, hash, signature: Buffer.from(await c.key.sign(Buffer.from(hash, 'hex'))).toString('base64') }
    const relay = createMemoryStore()
    relay.appendLog(a.log.author, tampered)
    const rogue = createLogReplicator({ components: c.node, store: relay, accept: all })
    await c.replicator.stop()
    await rogue.start()
    try {
      const [res] = await b.replicator.sync(c.node.peerId, { authors: [a.log.author] })
      expect(res!.error).toBeInstanceOf(LogSignatureError)
      expect(b.store.equivocations(a.log.author)).toEqual([])
    } finally {
      await rogue.stop()
      await c.replicator.start()
    }
  })
})
