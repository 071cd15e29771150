import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, describe, expect, it } from 'vitest'
import { announce, caps, claim, helpRequest, helpResponse, ping, REPO, T0, ts } from './builders.test.util.js'
import { createLedger } from './ledger.js'
import { createSignedLog, equivocation, LogConflictError } from './log.js'
import { openStateStore, StoreVersionError } from './sqlite.js'

const here = dirname(fileURLToPath(import.meta.url))
const fixture = join(here, '..', 'test', 'fixtures', 'append-loop.js')
const fillFixture = join(here, '..', 'test', 'fixtures', 'fill-store.js')
const built = existsSync(join(here, '..', 'dist', 'index.js'))
const dirs: string[] = []
function tempDir (): string {
  const d = mkdtempSync(join(tmpdir(), 'bzzz-state-'))
  dirs.push(d)
  return d
}
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

describe('SQLite persistence', () => {
  it('keeps the evidence of an equivocation across a restart, once per pair of entries', async () => {
    const path = join(tempDir(), 'evidence.db')
    const key = await generateKeyPair('Ed25519')
    const first = createSignedLog({ privateKey: key, store: openStateStore({ path: ':memory:' }) })
    const second = createSignedLog({ privateKey: key, store: openStateStore({ path: ':memory:' }) })
    const a = await first.append('task_progress', { branch: 'a' })
    const b = await second.append('task_progress', { branch: 'b' })
    let store = openStateStore({ path })
    const evidence = equivocation(a, b, T0)
    store.recordEquivocation(evidence)
    store.recordEquivocation(equivocation(b, a, T0 + 1))
    store.close()
    store = openStateStore({ path })
    expect(store.equivocations()).toEqual([evidence])
    expect(store.equivocations(first.author)).toEqual([evidence])
    expect(store.equivocations('someone-else')).toEqual([])
    store.close()
  })

  it('the ledger, the peers last seen and the logs survive a restart', async () => {
    const path = join(tempDir(), 'state.db')
    const key = await generateKeyPair('Ed25519')
    const now = T0 + 5000
    let store = openStateStore({ path })
    let ledger = createLedger({ store })
    const log = createSignedLog({ privateKey: key, store })
    const messages = [
      caps('a', T0), ping('a', T0 + 1000), caps('b', T0), announce('#42', T0),
      claim('#42', 'a', T0 + 100, { lease_expires: ts(T0 + 60_000), claim_id: 3 }), claim('#42', 'b', T0 + 200, { claim_id: 4 }),
      helpRequest('#42', 'a', T0 + 300), helpResponse('#42', 'b', T0 + 400, { to_node: 'a' }), announce('#43', T0)
    ]
    for (const [i, m] of messages.entries()) ledger.observe(m, T0 + i * 100)
    ledger.peerLeft('b', T0 + 2000)
    for (let i = 0; i < 10; i++) await log.append('task_progress', { i })
    const before = { tasks: ledger.tasks(now), peers: ledger.peers(now), help: ledger.help(`${REPO}#42`, now), head: log.head() }
    store.close()

    store = openStateStore({ path })
    ledger = createLedger({ store })
    const reopened = createSignedLog({ privateKey: key, store })
    expect({ tasks: ledger.tasks(now), peers: ledger.peers(now), help: ledger.help(`${REPO}#42`, now), head: reopened.head() }).toEqual(before)
    expect(before.tasks.map((t) => t.status)).toEqual(['claimed', 'announced'])
    expect(before.peers.map((p) => p.liveness)).toEqual(['alive', 'dead'])
    await expect(reopened.verify()).resolves.toMatchObject({ length: 10 })
    // And the log continues where it was.
    expect((await reopened.append('task_completed', {})).seq).toBe(10)
    expect(ledger.observe(messages[3]!, T0)).toBe(false)
    expect(() => store.appendLog(reopened.author, reopened.range(3, 4))).toThrow(LogConflictError)
    store.close()
  })

  it('refuses a database of another schema version', () => {
    const path = join(tempDir(), 'v.db')
    openStateStore({ path }).close()
    const { DatabaseSync } = process.getBuiltinModule('node:sqlite')
    const db = new DatabaseSync(path)
    db.exec("UPDATE meta SET value = '99' WHERE key = 'schema'")
    db.close()
    expect(() => openStateStore({ path })).toThrow(StoreVersionError)
  })

  it.skipIf(!built || process.platform === 'win32')('reports a full disk as such, not as a failed rollback (needs dist: run tsc -b)', async () => {
    const path = join(tempDir(), 'full.db')
    // A 256 KiB file size limit: SQLite's write fails, and SQLite rolls the transaction back itself.
    const child = spawn('/bin/sh', ['-c', 'ulimit -f 512 && exec "$0" "$1" "$2"', process.execPath, fillFixture, path], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
    expect(code, stderr).toBe(0)
    const error = JSON.parse(stdout) as { message: string, errcode: number }
    expect(error.message).not.toMatch(/rollback/)
    expect(error.message).toMatch(/full|disk|I\/O/i)
    // What was committed before is intact.
    const store = openStateStore({ path })
    try {
      expect(store.loadLedger().peers.length).toBeGreaterThan(0)
    } finally {
      store.close()
    }
  })

  it.skipIf(!built)('loses nothing acknowledged when the writer is killed with SIGKILL mid-stream (needs dist: run tsc -b)', async () => {
    const path = join(tempDir(), 'crash.db')
    const key = await generateKeyPair('Ed25519')
    const author = peerIdFromPrivateKey(key).toString()
    const keyHex = Buffer.from(privateKeyToProtobuf(key)).toString('hex')
    const ackedLog = new Set<number>()
    const ackedMessages = new Set<number>()
    let nextMessage = 0

    // Three crashes at different points, each writer continuing the same database.
    for (const killAfter of [40, 133, 257]) {
      const child = spawn(process.execPath, [fixture, path, keyHex, String(nextMessage)], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
      let buffered = ''
      let acksThisRun = 0
      let ready = -1
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`writer too slow; stderr: ${stderr}`)), 60_000)
        child.stdout.on('data', (d: Buffer) => {
          buffered += d.toString()
          const lines = buffered.split('\n')
          buffered = lines.pop()!
          for (const line of lines) {
            const [kind, n] = line.split(' ')
            if (kind === 'READY') ready = Number(n)
            if (kind === 'L') ackedLog.add(Number(n))
            if (kind === 'M') { ackedMessages.add(Number(n)); nextMessage = Number(n) + 1 }
            if (kind === 'L' || kind === 'M') acksThisRun++
          }
          if (acksThisRun >= killAfter) {
            clearTimeout(timer)
            child.kill('SIGKILL') // while it keeps writing
            resolve()
          }
        })
        child.on('exit', () => { clearTimeout(timer); if (acksThisRun < killAfter) reject(new Error(`writer exited early; stderr: ${stderr}`)) })
      })
      expect(await exited).toBe('SIGKILL')
      expect(ready).toBeGreaterThanOrEqual(0)

      const store = openStateStore({ path })
      try {
        const head = store.logHead(author)
        for (const seq of ackedLog) expect(seq).toBeLessThan(head.length)
        const log = createSignedLog({ privateKey: key, store })
        await expect(log.verify()).resolves.toMatchObject({ length: head.length })
        const keys = new Set(createLedger({ store }).tasks(T0).map((t) => t.key))
        for (const n of ackedMessages) expect(keys.has(`${REPO}#${n}`)).toBe(true)
        // Whatever was written after the last acknowledgement is either whole or absent.
        nextMessage = Math.max(nextMessage, keys.size)
      } finally {
        store.close()
      }
    }
    expect(ackedLog.size).toBeGreaterThan(200)
  })
})
