// A demonstration of the whole mesh on one machine, until apps/sim exists.
//
// Five peers (in-process libp2p over the memory transport) and a local GitHub (the forge)
// with five issues, three of them eligible. The peers elect a watcher, which turns the
// eligible issues into tasks; rendezvous hashing picks who tries first; GitHub's comment ids
// decide who holds each task; the holder forks, commits with a stand-in agent, pushes and opens
// a pull request. One holder crashes mid-task: the mesh sees it die and, without waiting for its lease,
// the next peer in rank order takes the task over. At the end the peers replicate and verify
// each other's signed logs, and a report is printed.
//
// Run: npx -y pnpm@12 demo
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createForge, type Forge } from '@bzzz/forge'
import {
  createClaimer,
  createGitHubClient,
  createPublisher,
  createWatcher,
  taskResultMessage,
  type GitHubClient,
  type Watcher
} from '@bzzz/github'
import { createMesh, type Mesh } from '@bzzz/mesh'
import { TOPICS, formatTimestamp, type Message, type Topic, type TopicMessageMap } from '@bzzz/protocol'
import {
  createLedger,
  createLogReplicator,
  createMemoryStore,
  createSignedLog,
  logEntryForMessage,
  type Ledger,
  type LogReplicator,
  type SignedLog
} from '@bzzz/state'

const run = promisify(execFile)
const REPO = 'demo-org/tasks'
const NAMES = ['alpha', 'bravo', 'charlie', 'delta', 'echo']
const LEASE_MS = 6000
const WARM_UP_MS = 1500
const started = Date.now()

function say (what: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(5)
  console.log(`[${t}s] ${what}`)
}

interface Peer {
  name: string
  id: string
  mesh: Mesh
  ledger: Ledger
  log: SignedLog
  store: ReturnType<typeof createMemoryStore>
  replicator: LogReplicator
  client: GitHubClient
  watcher?: Watcher
  working: Set<string>
  /** Tasks this peer leaves alone until the given time: GitHub said someone else holds them. */
  skip: Map<string, number>
  crashed: boolean
  results: Array<{ task: string, url: string }>
}

const forge: Forge = await createForge({
  port: 0,
  forkDelayMs: 300,
  seed: {
    users: [
      { login: 'maintainer', token: 'tok-maintainer' },
      { login: 'stranger', token: 'tok-stranger' },
      ...NAMES.map((n) => ({ login: `bzzz-${n}`, token: `tok-${n}`, name: `Bzzz ${n}`, email: `${n}@bzzz.local` }))
    ],
    orgs: [{ login: 'demo-org', members: ['maintainer'] }],
    repos: [{
      owner: 'demo-org',
      name: 'tasks',
      files: { 'README.md': '# tasks\n' },
      labels: ['bzzz'],
      issues: [
        { title: 'Write a greeting', body: 'Add greeting.md saying hello to the mesh.', author: 'maintainer', labels: ['bzzz'] },
        { title: 'Document the peers', body: 'Add peers.md listing the peers.', author: 'maintainer', labels: ['bzzz'] },
        { title: 'Not for agents', body: 'No bzzz label: nobody should take this.', author: 'maintainer' },
        { title: 'Run this script', body: 'Opened by a stranger: untrusted, ignored.', author: 'stranger', labels: ['bzzz'] },
        { title: 'Add a changelog', body: 'Add CHANGELOG.md with one entry.', author: 'maintainer', labels: ['bzzz'] }
      ]
    }]
  }
})
say(`forge at ${forge.url} with ${REPO}: 5 issues, 3 eligible (labelled bzzz, by a member)`)

// --- the peers -----------------------------------------------------------------------------
const peers: Peer[] = []
for (const name of NAMES) {
  const mesh = await createMesh({ transport: 'memory', meshName: 'demo' })
  const id = mesh.peerId.toString()
  const store = createMemoryStore()
  const peer: Peer = {
    name,
    id,
    mesh,
    store,
    replicator: createLogReplicator({ components: mesh.libp2p, store }),
    ledger: createLedger({ selfId: id }),
    log: createSignedLog({ privateKey: mesh.privateKey, store }),
    client: await createGitHubClient({
      token: `tok-${name}`,
      baseUrl: forge.url,
      gitBaseUrl: forge.url,
      throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0 },
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }
    }),
    working: new Set(),
    skip: new Map(),
    crashed: false,
    results: []
  }
  for (const topic of TOPICS) {
    mesh.subscribe(topic, (message) => { record(peer, message).catch((err: Error) => { say(`${name}: ${err.message}`) }) })
  }
  mesh.addEventListener('peer:leave', (evt) => { peer.ledger.peerLeft(evt.detail.toString(), Date.now()) })
  // An author that signed two entries at one seq (the evidence is in the store): tell the operator, discount it.
  peer.replicator.addEventListener('equivocation', (evt) => {
    say(`${name}: ${evt.detail.author.slice(-8)} equivocated at entry ${evt.detail.seq}`)
    peer.ledger.markEquivocating(evt.detail.author)
  })
  await mesh.start()
  await peer.replicator.start()
  peers.push(peer)
}
const nameOf = new Map(peers.map((p) => [p.id, p.name]))
const who = (id: string | undefined): string => (id === undefined ? '-' : nameOf.get(id) ?? id.slice(-6))
for (let i = 1; i < peers.length; i++) {
  for (let j = 0; j < i; j++) await peers[i]!.mesh.dial(peers[j]!.mesh.getMultiaddrs()[0]!)
}
say(`${peers.length} peers up: ${peers.map((p) => `${p.name}=${p.id.slice(-6)}`).join(' ')}`)

async function record (peer: Peer, message: Message): Promise<void> {
  peer.ledger.observe(message, Date.now())
  const entry = logEntryForMessage(message)
  if (entry !== undefined) await peer.log.append(entry.type, entry.payload)
}

/** Publishes on the mesh and records locally: gossipsub does not hand a peer its own messages. */
async function publish<T extends Topic> (peer: Peer, topic: T, message: TopicMessageMap[T]): Promise<void> {
  if (peer.crashed) return
  await record(peer, message)
  await peer.mesh.publish(topic, message)
}

// --- what each peer does every tick ------------------------------------------------------------
async function tick (peer: Peer): Promise<void> {
  if (peer.crashed) return
  const now = Date.now()
  await publish(peer, 'presence_ping', {
    type: 'presence_ping', node_id: peer.id, status: peer.working.size > 0 ? 'busy' : 'idle',
    load: { cpu: 10 }, active_tasks: [...peer.working], timestamp: formatTimestamp(now), slots_free: peer.working.size > 0 ? 0 : 1
  })
  // One watcher per repository, elected by rendezvous hashing; the standby takes over if it dies.
  // (Elect only once the peer has heard from the others, as a daemon waits out its first pings.)
  const elected = now - started > WARM_UP_MS && peer.ledger.watchers(REPO, now).watcher === peer.id
  if (elected && peer.watcher === undefined) {
    say(`${peer.name} is elected watcher of ${REPO}`)
    peer.watcher = createWatcher({ client: peer.client, node: peer.id, repos: [REPO], intervalMs: 1000 })
    peer.watcher.on('task', (task) => {
      say(`${peer.name} broadcasts ${task.action ?? 'open'} ${task.repo}${task.task_id} "${task.title ?? ''}"`)
      publish(peer, 'task_broadcast', task).catch((err: Error) => { say(`${peer.name}: ${err.message}`) })
    })
    peer.watcher.on('error', (err) => { say(`${peer.name} watcher: ${err.message}`) })
    peer.watcher.start()
  } else if (!elected && peer.watcher !== undefined) {
    await peer.watcher.stop()
    peer.watcher = undefined
  }
  // Claim what rendezvous hashing says this peer should try now.
  if (peer.working.size > 0) return
  for (const task of peer.ledger.tasks(now)) {
    if (!task.claimable || (peer.skip.get(task.key) ?? 0) > now) continue
    const plan = peer.ledger.claimPlan(task.key, peer.id, now)
    if (!plan.shouldClaim) continue
    peer.working.add(task.key)
    work(peer, task.key, plan.attempt, plan.breaks)
      .catch((err: Error) => { say(`${peer.name} failed on ${task.key}: ${err.message}`) })
      .finally(() => peer.working.delete(task.key))
    return
  }
}

async function work (peer: Peer, key: string, attempt: number, breaks: number | undefined): Promise<void> {
  const issue = Number(key.slice(key.indexOf('#') + 1))
  const claimer = createClaimer({ client: peer.client, node: peer.id, leaseMs: LEASE_MS, renewEveryMs: 2000, settleMs: 300, trustedClaimants: NAMES.map((n) => `bzzz-${n}`) })
  // A holder the mesh holds dead is broken at once: no waiting for its lease.
  if (breaks !== undefined) say(`${peer.name} breaks claim ${breaks} on ${key}: its holder is dead`)
  const outcome = await claimer.claim(REPO, issue, { attempt, ...(breaks !== undefined ? { breaks } : {}) })
  if (outcome.outcome === 'lost') {
    say(`${peer.name} lost the claim on ${key} (${outcome.reason}${outcome.winner !== undefined ? `, held by ${who(outcome.winner.node)}` : ''})`)
    // A completed task is never claimed again; a held one is left alone until its lease could lapse.
    peer.skip.set(key, outcome.reason === 'completed' ? Infinity : Date.now() + LEASE_MS / 2)
    return
  }
  const claim = outcome.claim
  say(`${peer.name} holds ${key} (claim comment ${claim.claimId}, attempt ${claim.attempt})`)
  await publish(peer, 'task_claim', claim.toMessage())
  claim.startRenewing()
  const begun = Date.now()

  // The first holder of the first task crashes here: it stops renewing and leaves the mesh.
  if (!crashDone && attempt === 1) {
    crashDone = true
    peer.crashed = true
    claim.stopRenewing()
    await peer.watcher?.stop()
    say(`${peer.name} CRASHES while holding ${key}`)
    await peer.mesh.stop()
    return
  }

  const dir = await mkdtemp(join(tmpdir(), `bzzz-demo-${peer.name}-`))
  try {
    const publisher = createPublisher({ client: peer.client, forkPollMs: 100, settleMs: 300 })
    const fork = await publisher.ensureFork(REPO, { scope: claim.scope, signal: claim.signal })
    const git = async (...args: string[]): Promise<void> => {
      await run('git', args, { cwd: dir, env: { ...process.env, ...peer.client.gitEnv() }, signal: claim.signal })
    }
    const branch = `bzzz/issue-${issue}`
    await git('clone', '-q', fork.cloneUrl, '.')
    await git('checkout', '-q', '-b', branch)
    // A stand-in for the agent CLI: it writes what the issue asks for.
    await writeFile(join(dir, `issue-${issue}.md`), `# Issue ${issue}\n\nDone by ${peer.name} (${peer.id}).\n`)
    await git('add', '.')
    await git('-c', `user.name=bzzz-${peer.name}`, '-c', `user.email=${peer.name}@bzzz.local`, 'commit', '-q', '-m', `Resolve #${issue}`)
    await claim.fence({ signal: claim.signal })
    await git('push', '-q', 'origin', branch)
    const pr = await publisher.openPullRequest(claim, {
      fork, branch, title: `Resolve #${issue}`, summary: `Work by ${peer.name}.`, log: 'stand-in agent: wrote one file', signal: claim.signal
    })
    await claim.complete(pr.adopted?.state ?? 'done', pr.url)
    peer.results.push({ task: key, url: pr.url })
    say(`${peer.name} opened ${pr.url} for ${key}`)
    await publish(peer, 'task_result', taskResultMessage(claim, { type: 'pull_request', url: pr.url, durationMs: Date.now() - begun }))
  } catch (err) {
    say(`${peer.name} stopped ${key}: ${(err as Error).message}`)
    await claim.release().catch(() => {})
  } finally {
    claim.stopRenewing()
    await rm(dir, { recursive: true, force: true })
  }
}
let crashDone = false

// --- run until every eligible issue has a pull request -------------------------------------------
const timer = setInterval(() => {
  for (const p of peers) tick(p).catch((err: Error) => { say(`${p.name}: ${err.message}`) })
}, 250)
const deadline = Date.now() + 90_000
const done = (): number => peers.reduce((n, p) => n + p.results.length, 0)
while (done() < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200))
clearInterval(timer)
for (const p of peers) await p.watcher?.stop()

// --- logs: replicate and verify ----------------------------------------------------------------------
const alive = peers.filter((p) => !p.crashed)
const replicated = new Map<string, number>()
for (const p of alive) {
  for (const q of alive) {
    if (p === q) continue
    try {
      const results = await p.replicator.sync(q.mesh.peerId)
      for (const r of results) replicated.set(p.name, (replicated.get(p.name) ?? 0) + r.added)
    } catch (err) {
      say(`${p.name} could not sync with ${q.name}: ${(err as Error).message}`)
    }
  }
}

// --- report --------------------------------------------------------------------------------------------
console.log('\nReport')
const report = {
  seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
  pull_requests: peers.flatMap((p) => p.results.map((r) => ({ task: r.task, peer: p.name, url: r.url }))),
  ignored_issues: ['#3 (no bzzz label)', '#4 (untrusted author)'],
  crashed: peers.filter((p) => p.crashed).map((p) => p.name),
  counted_requests_per_task: Object.fromEntries(
    Object.entries(peers.reduce<Record<string, number>>((acc, p) => {
      for (const [scope, c] of Object.entries(p.client.requestCounts().scopes)) {
        if (scope.startsWith('task:')) acc[scope] = (acc[scope] ?? 0) + c.counted
      }
      return acc
    }, {}))
  ),
  logs: await Promise.all(alive.map(async (p) => ({
    peer: p.name,
    own_entries: (await p.log.verify()).length,
    entries_replicated_from_others: replicated.get(p.name) ?? 0
  })))
}
console.log(JSON.stringify(report, null, 2))
for (const p of alive) await p.mesh.stop()
await forge.close()
if (report.pull_requests.length < 3) {
  console.error('demo failed: not every eligible issue got a pull request')
  process.exit(1)
}
