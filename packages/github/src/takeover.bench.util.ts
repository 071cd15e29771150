// A small mesh in one process for the benchmark: peers with a @bzzz/state ledger each, fed the
// same messages (a stand-in for gossip), that claim by rendezvous rank, break a dead holder's
// claim, and publish through the forge. Used by budget.bench.ts.
import { formatTimestamp, type Message } from '@bzzz/protocol'
import { createLedger, type Ledger, type LivenessConfig } from '@bzzz/state'
import { createClaimer, type ClaimHandle, type Claimer } from './claimer.js'
import type { GitHubClient } from './client.js'
import { createPublisher, taskResultMessage, type ForkInfo, type Publisher } from './publish.js'

export interface MeshPeer {
  id: string
  client: GitHubClient
  ledger: Ledger
  claimer: Claimer
  publisher: Publisher
  fork: ForkInfo
  alive: boolean
  busy: boolean
  handle: ClaimHandle | undefined
}

export interface MeshRun {
  /** From the killed holder's last presence to the new holder's claim won (ms). */
  takeoverMs: number | undefined
  /** Counted requests of the task, summed over every peer. */
  counted: number
  results: string[]
}

export async function runMeshTask (opts: {
  clients: Array<{ id: string, client: GitHubClient }>
  repo: string
  issue: number
  leaseMs?: number
  settleMs?: number
  marginMs?: number
  liveness?: Partial<LivenessConfig>
  /** The ledger's standby step: keep it above settleMs + a round trip, or standbys post claims that lose. */
  standbyStepMs?: number
  /** Stop as soon as the takeover is won (for timing it). */
  stopAfterTakeover?: boolean
  /** Kill the first holder once it has pushed its work (before it publishes). */
  killFirstHolder: boolean
  /** Push the peer's work to its fork. */
  push: (peer: MeshPeer, branch: string) => Promise<void>
  timeoutMs: number
}): Promise<MeshRun> {
  const key = `${opts.repo}#${opts.issue}`
  const scope = `task:${key}`
  const logins = await Promise.all(opts.clients.map(async (c) => await c.client.login()))
  const peers: MeshPeer[] = []
  for (const { id, client } of opts.clients) {
    const publisher = createPublisher({ client, settleMs: opts.settleMs ?? 2000, forkPollMs: 100 })
    const fork = await publisher.ensureFork(opts.repo) // exists already: not counted in the task
    peers.push({
      id,
      client,
      ledger: createLedger({ selfId: id, ...(opts.liveness !== undefined ? { liveness: opts.liveness } : {}), ...(opts.standbyStepMs !== undefined ? { standbyStepMs: opts.standbyStepMs } : {}) }),
      claimer: createClaimer({ client, node: id, trustedClaimants: logins, ...(opts.leaseMs !== undefined ? { leaseMs: opts.leaseMs } : {}), ...(opts.settleMs !== undefined ? { settleMs: opts.settleMs } : {}), ...(opts.marginMs !== undefined ? { marginMs: opts.marginMs } : {}) }),
      publisher,
      fork,
      alive: true,
      busy: false,
      handle: undefined
    })
  }
  const send = (from: MeshPeer, m: Message): void => {
    if (!from.alive) return
    for (const p of peers) if (p.alive) p.ledger.observe(m, Date.now())
  }
  const ping = (p: MeshPeer): void => {
    send(p, { type: 'presence_ping', node_id: p.id, status: p.busy ? 'busy' : 'idle', load: { cpu: 1 }, active_tasks: [], timestamp: formatTimestamp(), slots_free: p.busy ? 0 : 1 })
  }
  for (const p of peers) ping(p)
  send(peers[0]!, { type: 'task', task_id: `#${opts.issue}`, repo: opts.repo, issue_url: `https://github.test/${opts.repo}/issues/${opts.issue}`, model: 'm', input: 'x', params: {}, timestamp: formatTimestamp(), node_id: peers[0]!.id })

  let killed: { at: number } | undefined
  let takeoverMs: number | undefined
  const results: string[] = []
  let firstHolder = true

  const work = async (p: MeshPeer, attempt: number, breaks: number | undefined): Promise<void> => {
    const r = await p.claimer.claim(opts.repo, opts.issue, { attempt, ...(breaks !== undefined ? { breaks } : {}) })
    if (r.outcome === 'lost') return
    const h = r.claim
    p.handle = h
    if (breaks !== undefined && killed !== undefined) takeoverMs = Date.now() - killed.at
    send(p, h.toMessage())
    if (opts.stopAfterTakeover === true && takeoverMs !== undefined) return
    h.startRenewing()
    const branch = `bzzz/${opts.issue}-${h.attempt}`
    await opts.push(p, branch)
    if (opts.killFirstHolder && firstHolder) {
      firstHolder = false
      // kill -9: no goodbye, no release, no more pings or renewals.
      h.stopRenewing()
      p.alive = false
      killed = { at: lastPing.get(p.id) ?? Date.now() }
      return
    }
    firstHolder = false
    const pr = await p.publisher.openPullRequest(h, { fork: p.fork, branch, title: 't', summary: 's' })
    await h.complete(pr.adopted?.state ?? 'done', pr.url)
    results.push(pr.url)
    send(p, taskResultMessage(h, { type: 'pull_request', url: pr.url, durationMs: 1 }))
  }

  const lastPing = new Map<string, number>()
  const deadline = Date.now() + opts.timeoutMs
  let lastPingRound = 0
  while (results.length === 0 && !(opts.stopAfterTakeover === true && takeoverMs !== undefined) && Date.now() < deadline) {
    const now = Date.now()
    if (now - lastPingRound >= 1000) {
      lastPingRound = now
      for (const p of peers) if (p.alive) { ping(p); lastPing.set(p.id, now) }
    }
    for (const p of peers) {
      if (!p.alive || p.busy) continue
      const plan = p.ledger.claimPlan(key, p.id, now)
      if (!plan.shouldClaim) continue
      p.busy = true
      work(p, plan.attempt, plan.breaks).catch((err: Error) => { console.error(`${p.id}: ${err.message}`) }).finally(() => { p.busy = false })
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  for (const p of peers) p.handle?.stopRenewing()
  const counted = peers.reduce((n, p) => n + p.client.scopeCounts(scope).counted, 0)
  return { takeoverMs, counted, results }
}
