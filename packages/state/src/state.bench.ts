// Throughput of the ledger, the rendezvous ranking, the signed log and the SQLite store.
// Prints one JSON line per measurement: {"bench":"state.<what>", ...}
// Run: npx -y pnpm@12 bench state   (from the repository root)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatTimestamp } from '@bzzz/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createLedger, createMemoryStore, createSignedLog, openStateStore, rendezvousRank, verifyLog } from './index.js'

const T0 = Date.parse('2025-07-12T02:00:00Z')
const REPO = 'example-org/task-repo'
const out = (o: Record<string, unknown>): void => { console.log(JSON.stringify(o)) }
const time = async (fn: () => unknown): Promise<number> => {
  const s = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - s) / 1e6
}

// Ledger: presence pings from 50 peers, then 1000 tasks with claims.
{
  const peers = Array.from({ length: 50 }, (_, i) => `12D3KooW-peer-${i}`)
  const ledger = createLedger()
  const pings = 100_000
  const ms = await time(() => {
    for (let i = 0; i < pings; i++) {
      const node = peers[i % peers.length]!
      ledger.observe({ type: 'presence_ping', node_id: node, status: 'idle', load: { cpu: 10 }, active_tasks: [], slots_free: 1, timestamp: formatTimestamp(T0 + i * 40) }, T0 + i * 40)
    }
  })
  out({ bench: 'state.ledger.observe', type: 'presence_ping', peers: peers.length, msgs_per_s: Math.round(pings / (ms / 1000)) })
  const now = T0 + pings * 40
  const tasks = 1000
  const ms2 = await time(() => {
    for (let i = 0; i < tasks; i++) {
      ledger.observe({ type: 'task', task_id: `#${i}`, repo: REPO, issue_url: 'u', model: 'ollama', input: 'x', params: {}, timestamp: formatTimestamp(now) }, now)
      ledger.observe({ type: 'task_claim', task_id: `#${i}`, repo: REPO, node_id: peers[i % 50]!, attempt: 1, claim_id: i, lease_expires: formatTimestamp(now + 60_000), timestamp: formatTimestamp(now) }, now)
    }
  })
  out({ bench: 'state.ledger.observe', type: 'task+task_claim', tasks, msgs_per_s: Math.round((2 * tasks) / (ms2 / 1000)) })
  const ms3 = await time(() => ledger.tasks(now + 1000))
  out({ bench: 'state.ledger.tasks', tasks, peers: peers.length, ms: Number(ms3.toFixed(2)) })
  const ms4 = await time(() => { for (let i = 0; i < 200; i++) ledger.claimPlan(`${REPO}#${i}`, peers[0]!, now + 1000) })
  out({ bench: 'state.ledger.claimPlan', peers: peers.length, us_per_plan: Math.round((ms4 * 1000) / 200) })
}

// A long-running peer: 5,000 tasks known (finished), then a message about an open task and the
// plan that reads the open tasks, as a peer does on each task message. Neither may grow with
// the tasks already finished.
{
  const ledger = createLedger()
  const known = 5000
  const t = T0
  for (let i = 0; i < known; i++) {
    ledger.observe({ type: 'task', task_id: `#${i}`, repo: REPO, issue_url: 'u', model: 'ollama', input: 'x', params: {}, timestamp: formatTimestamp(t) }, t)
    ledger.observe({ type: 'task_result', task_id: `#${i}`, repo: REPO, node_id: 'p1', result_type: 'pull_request', result_url: `https://x/pull/${i}`, duration_ms: 1, timestamp: formatTimestamp(t) }, t)
  }
  // A new task every fifth message; the others are claims on the 20 newest.
  const n = 2000
  const ms = await time(() => {
    for (let i = 0; i < n; i++) {
      const task = known + Math.floor(i / 5)
      if (i % 5 === 0) ledger.observe({ type: 'task', task_id: `#${task}`, repo: REPO, issue_url: 'u', model: 'ollama', input: 'x', params: {}, timestamp: formatTimestamp(t + i) }, t + i)
      else ledger.observe({ type: 'task_claim', task_id: `#${task - (i % 20)}`, repo: REPO, node_id: `p${i % 7}`, attempt: 1, claim_id: i, lease_expires: formatTimestamp(t + 60_000), timestamp: formatTimestamp(t + i) }, t + i)
      ledger.openTasks(t + i)
    }
  })
  out({ bench: 'state.ledger.observe+openTasks', tasks_known: known, us_per_message: Math.round((ms * 1000) / n) })
  // The open tasks are now 400, every one held: a claim loop wants the claimable ones (none).
  const open = ledger.openTasks(t + n).length
  const reads = 1000
  const msOpen = await time(() => { for (let i = 0; i < reads; i++) ledger.openTasks(t + n) })
  const msClaimable = await time(() => { for (let i = 0; i < reads; i++) ledger.claimableTasks(t + n) })
  out({ bench: 'state.ledger.openTasks', open, us_per_read: Math.round((msOpen * 1000) / reads) })
  out({ bench: 'state.ledger.claimableTasks', open, claimable: ledger.claimableTasks(t + n).length, us_per_read: Math.round((msClaimable * 1000) / reads) })
}

// Rendezvous ranking alone.
{
  const peers = Array.from({ length: 100 }, (_, i) => `12D3KooW-peer-${i}`)
  const n = 5000
  const ms = await time(() => { for (let i = 0; i < n; i++) rendezvousRank(`${REPO}#${i}`, peers) })
  out({ bench: 'state.rendezvousRank', peers: peers.length, ranks_per_s: Math.round(n / (ms / 1000)), us_per_rank: Math.round((ms * 1000) / n) })
}

// Signed log: append (memory, SQLite FULL, SQLite NORMAL) and verify.
{
  const key = await generateKeyPair('Ed25519')
  const n = 2000
  const mem = createSignedLog({ privateKey: key, store: createMemoryStore() })
  const msMem = await time(async () => { for (let i = 0; i < n; i++) await mem.append('task_progress', { i, task: `${REPO}#${i}` }) })
  out({ bench: 'state.log.append', store: 'memory', entries_per_s: Math.round(n / (msMem / 1000)) })
  // The same 2,000 appends to a log of 20,000 entries: an append must not copy the log.
  const long = createSignedLog({ privateKey: key, store: createMemoryStore() })
  for (let i = 0; i < 18_000; i++) await long.append('task_progress', { i, task: `${REPO}#${i}` })
  const msLong = await time(async () => { for (let i = 0; i < n; i++) await long.append('task_progress', { i, task: `${REPO}#${i}` }) })
  out({ bench: 'state.log.append', store: 'memory', log_length: 20_000, entries_per_s: Math.round(n / (msLong / 1000)) })
  const entries = mem.range(0, n)
  const msVerify = await time(async () => verifyLog(mem.author, entries))
  out({ bench: 'state.log.verify', entries_per_s: Math.round(n / (msVerify / 1000)) })
  const dir = mkdtempSync(join(tmpdir(), 'bzzz-state-bench-'))
  try {
    for (const synchronous of ['full', 'normal'] as const) {
      const store = openStateStore({ path: join(dir, `${synchronous}.db`), synchronous })
      const log = createSignedLog({ privateKey: key, store })
      const m = 500
      const ms = await time(async () => { for (let i = 0; i < m; i++) await log.append('task_progress', { i, task: `${REPO}#${i}` }) })
      out({ bench: 'state.log.append', store: `sqlite-${synchronous}`, entries_per_s: Math.round(m / (ms / 1000)), ms_per_entry: Number((ms / m).toFixed(3)) })
      const ledger = createLedger({ store })
      const k = 1000
      const ms2 = await time(() => {
        for (let i = 0; i < k; i++) ledger.observe({ type: 'presence_ping', node_id: `p${i % 20}`, status: 'idle', load: { cpu: 1 }, active_tasks: [], timestamp: formatTimestamp(T0 + i) }, T0 + i)
      })
      out({ bench: 'state.ledger.observe', store: `sqlite-${synchronous}`, type: 'presence_ping', msgs_per_s: Math.round(k / (ms2 / 1000)) })
      store.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
