/**
 * One run of a scenario: the forge with a seeded repository, N nodes from the factory (the
 * daemon's assembly), the faults on their schedule, until every task is published or the
 * duration ends; then the logs verified, the forge read, and the report built.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { warmUpOf } from '@bzzz/peer'
import type { AgentAdapter } from '@bzzz/executor'
import { createScriptedAgent } from './agent.js'
import { isSimCli, SIM_CLIS, startCliAgents, type CliAgents } from './agent-cli.js'
import { ArgumentError, NodeError } from './errors.js'
import type { ForgeFacts, LogCheck, SimEvent } from './events.js'
import { buildReport, type Report } from './metrics.js'
import type { NodeEvent, NodeFactory, SimNetwork, SimNode } from './node.js'
import { emptyProgress, foldProgress, summarise, type ProgressView } from './progress.js'
import { seededRandom } from './random.js'
import type { Scenario } from './scenario.js'
import { kills, schedule, standing } from './schedule.js'
import { createSecretScan } from './secrets.js'
import { forkAhead, labelAtRate } from './arrival.js'
import { startForgeProcess, type SimForge } from './forge-process.js'
import { forgeSeed, ineligibleIssues, peerLogin, peerName, peerToken, REPO, taskKey } from './world.js'

export interface RunInit {
  scenario: Scenario
  nodeFactory: NodeFactory
  /** Makes the transport's network for `peers` peers (netns), before the forge starts. */
  network?: (peers: number) => SimNetwork
  /** The agent for a peer; default the scripted agent the scenario describes. */
  agentFor?: (peer: string, onRun: Parameters<typeof createScriptedAgent>[0]['onRun']) => AgentAdapter
  signal?: AbortSignal
  view?: ProgressView
  /** Each event as it is recorded. */
  onEvent?: (e: SimEvent) => void
  /** Each line a node logs. */
  onLogLine?: (peer: string, line: string) => void
  /** How long to watch the requests of the idle mesh once every task ended (default 3 s). */
  idleWindowMs?: number
  /** How long to wait once every task ended, for a duplicate in flight to show (default 1 s). */
  quietMs?: number
}

export interface RunResult {
  report: Report
  events: SimEvent[]
  /** What was found with a token in it (log names); the report is scanned by the caller once written. */
  tokenPrefix: string
}

/** A peer that takes longer than this to start fails the run (it would otherwise hang it). */
const START_TIMEOUT_MS = 120_000
/** Up to this many peers, each replicates every log before the logs are verified at the end. */
const REPLICATE_AT_END_MAX_PEERS = 20

export async function runScenario (init: RunInit): Promise<RunResult> {
  const { scenario } = init
  const cli = scenario.agent.kind === 'cli' && init.agentFor === undefined ? scenario.agent.cli ?? 'claude' : undefined
  if (cli !== undefined && scenario.transport !== 'memory') throw new ArgumentError('agent', `cli:${cli} runs with transport memory (daemon peers run the daemon's scripted agent)`)
  if (cli !== undefined && !isSimCli(cli)) throw new ArgumentError('agent', `cli:${cli} is not one the sim runs (${SIM_CLIS.join(', ')})`)
  const signal = init.signal ?? new AbortController().signal
  const started = performance.now()
  const epoch = Date.now()
  const now = (): number => Math.round(performance.now() - started)
  const salt = randomBytes(6).toString('hex')
  const tokenPrefix = `sim${salt}`
  const scan = createSecretScan(tokenPrefix)
  const events: SimEvent[] = []
  const progress = emptyProgress()
  const tasks = Array.from({ length: scenario.issues }, (_, i) => taskKey(i + 1))
  const killAt = kills(scenario.faults)
  const firstRuns: string[] = []
  const record = (e: SimEvent): void => {
    events.push(e)
    if (e.kind === 'agent_started' && !firstRuns.includes(e.task)) {
      // The kill faults: the holder of the n-th task to start dies now.
      firstRuns.push(e.task)
      const i = Number(e.peer.slice('peer-'.length))
      if (killAt.includes(firstRuns.length)) killNode(i, e.task).catch((err: Error) => { note(`kill of ${e.peer} failed: ${err.message}`) })
    }
    foldProgress(progress, e)
    init.onEvent?.(e)
  }
  const note = (text: string): void => { init.view?.note(text, now()) }

  const { listLagMs, skew } = standing(scenario.faults)
  const network = init.network?.(scenario.peers)
  // The forge runs in a process of its own, as GitHub is a service apart (forge-process.ts).
  const forge: SimForge = await startForgeProcess({
    ...(network !== undefined ? { host: network.forgeHost } : {}),
    seed: forgeSeed(scenario.peers, scenario.issues, salt, { labelled: scenario.issueRate === undefined }),
    randomSeed: scenario.seed,
    ...(scenario.forge.secondaryRetryAfterS !== undefined ? { secondaryRetryAfterS: scenario.forge.secondaryRetryAfterS } : {}),
    ...(listLagMs !== undefined ? { listLagMs } : {}),
    signal
  }).catch((err: unknown) => { network?.close(); throw err })
  const logins = new Set(Array.from({ length: scenario.peers }, (_, i) => peerLogin(i)))
  if (listLagMs !== undefined) record({ t: now(), kind: 'fault_start', fault: 'list-lag', detail: `lists ${listLagMs} ms behind` })

  const dataRoot = await mkdtemp(join(tmpdir(), 'bzzz-sim-'))
  const nodes: Array<SimNode | undefined> = []
  const alive = new Set<number>()
  const timers: NodeJS.Timeout[] = []
  let peakRss = process.memoryUsage.rss()
  const rssTimer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }, 250)
  const random = seededRandom(scenario.seed ^ 0x5eed)
  const killNode = async (i: number, task: string): Promise<void> => {
    const node = nodes[i]
    if (node === undefined || !alive.has(i)) return
    alive.delete(i)
    record({ t: now(), kind: 'fault_start', fault: 'kill', detail: `${node.name} holding ${task}`, peer: node.name, task })
    note(`${node.name} killed while running ${task}`)
    await node.kill()
    record({ t: now(), kind: 'peer_down', peer: node.name, how: 'killed' })
  }

  let cliAgents: CliAgents | undefined
  const arrival = new AbortController()
  try {
    // --- the nodes -----------------------------------------------------------------------------
    if (cli !== undefined) cliAgents = await startCliAgents({ cli, dir: join(dataRoot, 'agents'), timeoutMs: scenario.agent.timeoutMs })
    const forked = scenario.forkAhead
      ? forkAhead({
        url: forge.url,
        repo: REPO,
        tokens: Array.from({ length: scenario.peers }, (_, i) => peerToken(i, salt)),
        ready: async () => await forge.forksReady([...logins]),
        signal
      })
      : undefined
    forked?.catch(() => {}) // awaited below; not an unhandled rejection meanwhile
    const startPeer = async (i: number, bootstrap: string[]): Promise<void> => {
      signal.throwIfAborted()
      const name = peerName(i)
      const offset = skew.get(i) ?? 0
      if (offset !== 0) record({ t: now(), kind: 'fault_start', fault: 'clock-skew', detail: `${name} clock ${offset > 0 ? '+' : ''}${Math.round(offset / 1000)} s`, peer: name })
      const onRun = (what: { task: string, phase: 'start' } | { task: string, phase: 'end', ok: boolean }): void => {
        if (what.phase === 'start') record({ t: now(), kind: 'agent_started', task: what.task, peer: name })
        else record({ t: now(), kind: 'agent_finished', task: what.task, peer: name, ok: what.ok })
      }
      const agent = init.agentFor?.(name, onRun) ?? cliAgents?.agentFor(name, onRun) ?? createScriptedAgent({ peer: name, agent: scenario.agent, seed: scenario.seed, onRun })
      let node: SimNode
      try {
        node = await init.nodeFactory({
          name,
          index: i,
          forgeUrl: forge.url,
          login: peerLogin(i),
          token: peerToken(i, salt),
          peerLogins: [...logins],
          repos: [REPO],
          transport: scenario.transport,
          bootstrap,
          lease: scenario.lease,
          timings: scenario.timings,
          slots: scenario.slots,
          ...(scenario.encryption !== 'noise' ? { encryption: scenario.encryption } : {}),
          agent,
          ...(cliAgents !== undefined ? { agentOptions: cliAgents.options(name) } : {}),
          agentTimeoutMs: scenario.agent.timeoutMs,
          now: () => Date.now() + offset,
          dataDir: join(dataRoot, name),
          report: (e: NodeEvent) => { record({ ...e, t: now() } as SimEvent) },
          logLine: (line) => {
            scan.check(`${name} log`, line)
            init.onLogLine?.(name, line)
          }
        }, { signal: AbortSignal.any([signal, AbortSignal.timeout(START_TIMEOUT_MS)]) })
      } catch (err) {
        throw new NodeError(name, `could not start: ${(err as Error).message}`, { cause: err })
      }
      nodes[i] = node
      alive.add(i)
      record({ t: now(), kind: 'peer_up', peer: name })
    }
    // Peer 0 first; then the others in parallel batches. A small mesh is a full mesh, as mDNS
    // makes one on a LAN: each peer joins through every peer already up (a peer only holds a
    // killed peer dead at once when it was connected to it; through a relay it takes the
    // liveness silence, 9 s in production). A large one joins through peer 0 and up to two
    // other peers already up, drawn from the seed. (netns peers find each other by mDNS.)
    await startPeer(0, [])
    const fullMesh = scenario.peers <= 10 && scenario.transport !== 'netns'
    const BATCH = fullMesh ? 1 : 8
    for (let from = 1; from < scenario.peers; from += BATCH) {
      const up = [...alive]
      const batch = Array.from({ length: Math.min(BATCH, scenario.peers - from) }, (_, k) => from + k)
      const plans = batch.map((i) => {
        const via = new Set<number>(fullMesh ? up : [0])
        for (let k = 0; k < 2 && up.length > 1; k++) via.add(up[1 + Math.floor(random() * (up.length - 1))]!)
        return { i, bootstrap: [...via].flatMap((j) => nodes[j]?.multiaddrs() ?? []) }
      })
      await Promise.all(plans.map(async (p) => { await startPeer(p.i, p.bootstrap) }))
      if (scenario.peers > 10) note(`${alive.size}/${scenario.peers} peers up`)
    }
    note(`${scenario.peers} peers up, ${scenario.issues} issues in ${REPO} (forge ${forge.url})`)

    // --- the faults ----------------------------------------------------------------------------
    const t0 = now()
    // End actions not reached when the run finishes are applied then (the forge must answer
    // properly while the logs are verified and the report is made).
    const pendingEnds = new Set<ReturnType<typeof schedule>[number]>()
    const apply = (action: ReturnType<typeof schedule>[number]): void => {
      pendingEnds.delete(action)
      {
        const mark = (): void => {
          if (action.phase === 'start') record({ t: now(), kind: 'fault_start', fault: action.fault, detail: action.detail })
          else record({ t: now(), kind: 'fault_end', fault: action.fault, detail: action.detail })
          note(`${action.phase === 'start' ? 'fault' : 'healed'}: ${action.detail}`)
        }
        switch (action.kind) {
          case 'forge-faults': forge.setFaults(action.faults).catch((err: Error) => { note(err.message) }); mark(); break
          case 'rate-limit-burst':
            if (action.phase === 'start') forge.burstRateLimit({ kind: action.limit, durationMs: action.durationMs }).catch((err: Error) => { note(err.message) })
            mark()
            break
          case 'partition': {
            mark()
            const [a, b] = action.groups
            const ids = (xs: number[]): string[] => xs.flatMap((j) => (nodes[j] === undefined ? [] : [nodes[j].peerId]))
            for (const [mine, theirs] of [[a, b], [b, a]] as const) {
              for (const j of mine) {
                if (!alive.has(j)) continue
                const op = action.phase === 'start' ? nodes[j]!.partition(ids(theirs)) : nodes[j]!.heal()
                op.catch((err: Error) => { note(`${peerName(j)}: partition: ${err.message}`) })
              }
            }
            break
          }
        }
      }
    }
    for (const action of schedule(scenario.faults, scenario.peers)) {
      if (action.phase !== 'start') pendingEnds.add(action)
      timers.push(setTimeout(() => { apply(action) }, Math.max(0, t0 + action.atMs - now())))
    }

    // --- work arriving at the formed mesh ------------------------------------------------------
    if (forked !== undefined) {
      await forked
      note(`${scenario.peers} forks ready`)
    }
    if (scenario.issueRate !== undefined) {
      // Once the last peer is warm (the node's warm-up, at least one and a half presence periods):
      // a peer still warming up does not claim, and the others would wait a standby step for it.
      const startAt = Math.max(now(), t0 + warmUpOf(scenario.timings))
      note(`labelling ${scenario.issues} issues, ${scenario.issueRate} a second, in ${((startAt - now()) / 1000).toFixed(1)} s (warm-up)`)
      labelAtRate({
        startAt,
        label: async (issue) => { await forge.label(issue) },
        issues: tasks.map((_, i) => i + 1), perSecond: scenario.issueRate, now, signal: AbortSignal.any([signal, arrival.signal])
      }).then(() => { note(`all ${scenario.issues} issues labelled`) }, (err: Error) => { if (!signal.aborted && !arrival.signal.aborted) note(`labelling stopped: ${err.message}`) })
    }

    // --- until every task is published --------------------------------------------------------
    // The duration counts from the moment every peer is up (starting daemons can take a while).
    const deadline = t0 + scenario.durationMs
    const pubs = async (): Promise<ForgeFacts['publications']> => await forge.publications(scenario.issues)
    const allPublished = async (): Promise<boolean> => Object.values(await pubs()).every((p) => p.pulls + p.issues + p.reports > 0)
    while (now() < deadline && !signal.aborted) {
      init.view?.update(summarise(progress, scenario.issues), now())
      if (await allPublished()) break
      await sleep(250, undefined, { signal }).catch(() => {})
    }
    init.view?.update(summarise(progress, scenario.issues), now())
    arrival.abort()
    const finished = now()
    if (!signal.aborted) await sleep(init.quietMs ?? 1000)
    // The idle mesh: requests per repository per hour while nothing is left to do.
    const idleMs = init.idleWindowMs ?? 3000
    let idlePerRepoPerHour: number | undefined
    if (!signal.aborted && idleMs > 0 && await allPublished()) {
      await forge.countFrom([...logins])
      const from = now()
      await sleep(idleMs)
      idlePerRepoPerHour = (await forge.countStop()) / ((now() - from) / 3_600_000)
    }

    // --- logs, forge, report -------------------------------------------------------------------
    for (const t of timers) clearTimeout(t)
    for (const action of [...pendingEnds]) apply(action)
    const logs: LogCheck[] = []
    const liveNodes = [...alive].map((i) => nodes[i]!)
    const verifySignal = AbortSignal.timeout(30_000 + 1000 * liveNodes.length)
    // Every peer verifies its own log and, in a small mesh, replicates every other log first and
    // verifies those too. In a large one that is peers² × entries signature checks on these
    // cores (100 peers, 1,000 tasks: tens of millions): each log is verified once, by its author.
    const replicate = liveNodes.length <= REPLICATE_AT_END_MAX_PEERS
    for (let k = 0; k < liveNodes.length; k += 8) {
      logs.push(...await Promise.all(liveNodes.slice(k, k + 8).map(async (n) => await n.verifyLogs({ signal: verifySignal, replicate }).catch((err: Error): LogCheck => ({ peer: n.name, ok: false, entries: 0, error: err.message })))))
    }
    const perTaskScope: Record<string, number> = {}
    let total = 0
    for (const n of nodes) {
      if (n === undefined) continue
      const c = n.requestCounts()
      total += c.total
      for (const [scope, v] of Object.entries(c.scopes)) if (scope.startsWith('task:')) perTaskScope[scope] = (perTaskScope[scope] ?? 0) + v
    }
    // When each claim comment was posted: the forge's records say, for every peer alike.
    if (!events.some((e) => e.kind === 'claim_posted')) events.push(...await forge.claimsPosted(epoch))
    const ineligible = await forge.ineligible(ineligibleIssues(scenario.issues))
    const publications = await pubs()
    // Both processes: the peers' and the forge's.
    const peakRssMb = Math.max(peakRss, process.memoryUsage.rss()) / 1024 / 1024 + await forge.peakRssMb()
    const build = (): Report => buildReport({
      scenario,
      events,
      facts: { tasks, publications, ineligible, requests: { total, perTaskScope, idlePerRepoPerHour } },
      logs,
      peakRssMb,
      wallMs: finished,
      secretsFound: scan.found()
    })
    let report = build()
    // The report itself (and the HTML page made from it) must not hold a token either.
    const before = scan.found().length
    scan.check('report', JSON.stringify(report))
    if (scan.found().length > before) report = build()
    return { report, events, tokenPrefix }
  } finally {
    arrival.abort()
    clearInterval(rssTimer)
    for (const t of timers) clearTimeout(t)
    const stopSignal = AbortSignal.timeout(30_000)
    await Promise.all([...alive].map(async (i) => { await nodes[i]!.stop({ signal: stopSignal }).catch(() => {}) }))
    for (const i of alive) record({ t: now(), kind: 'peer_down', peer: peerName(i), how: 'stopped' })
    init.view?.end()
    await forge.close()
    await cliAgents?.close().catch(() => {})
    network?.close()
    await rm(dataRoot, { recursive: true, force: true })
  }
}
