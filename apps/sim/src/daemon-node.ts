/**
 * `transport: tcp`: every peer is a `bzzz start` daemon process (apps/peer's CLI, built) on
 * loopback TCP, joined through bootstrap addresses. The sim reads its JSON log lines (the
 * node's typed events are logged with an `event` field) and its local HTTP interface.
 * Partitions and clock skew need `memory`; the agent is the daemon's scripted one (fixed work
 * time, the middle of the scenario's range; no failing or hanging runs).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { NodeError } from './errors.js'
import type { LogCheck } from './events.js'
import type { NodeEvent, NodeFactory, NodeSpec, SimNode } from './node.js'
import type { Scenario } from './scenario.js'

const exec = promisify(execFile)

/** apps/peer's built CLI (its package entry lives in src/ or dist/, the CLI in dist/). */
export function peerCliPath (): string {
  const entry = fileURLToPath(import.meta.resolve('@bzzz/peer'))
  return join(dirname(dirname(entry)), 'dist', 'cli.js')
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => { resolve(p) })
    })
  })
}

/** The daemon's `BZZZ_*` settings for a spec: timings, lease, capabilities, logging. */
export function daemonEnv (spec: Pick<NodeSpec, 'timings' | 'lease' | 'slots'>): Record<string, string> {
  const t = spec.timings
  const env: Record<string, string> = {
    BZZZ_CAPABILITIES__DETECT: 'false',
    BZZZ_CAPABILITIES__INSTALLED: 'claude',
    BZZZ_LOG__LEVEL: 'info',
    BZZZ_AGENT__SLOTS: String(spec.slots)
  }
  const set = (name: string, v: number | undefined): void => { if (v !== undefined) env[name] = String(v) }
  set('BZZZ_TIMINGS__PRESENCE_MS', t.presenceMs)
  set('BZZZ_TIMINGS__CAPABILITIES_MS', t.capabilitiesMs)
  set('BZZZ_TIMINGS__WARM_UP_MS', t.warmUpMs)
  set('BZZZ_TIMINGS__TICK_MS', t.tickMs)
  set('BZZZ_TIMINGS__STANDBY_STEP_MS', t.standbyStepMs)
  set('BZZZ_TIMINGS__SUSPECT_AFTER_MS', t.suspectAfterMs)
  set('BZZZ_TIMINGS__DEAD_AFTER_MS', t.deadAfterMs)
  set('BZZZ_TIMINGS__REPLICATE_MS', t.replicateMs)
  set('BZZZ_WATCH__INTERVAL_MS', t.watchIntervalMs)
  set('BZZZ_WATCH__OVERLAP_MS', t.watchOverlapMs)
  set('BZZZ_TIMINGS__LEASE_MS', spec.lease?.leaseMs)
  set('BZZZ_TIMINGS__RENEW_EVERY_MS', spec.lease?.renewEveryMs)
  set('BZZZ_TIMINGS__SETTLE_MS', spec.lease?.settleMs)
  return env
}

/** A daemon's log line as a sim event, when it is one this node reports about itself. Pure. */
export function eventOfLine (line: Record<string, unknown>, peer: string): NodeEvent[] {
  const key = typeof line.key === 'string' ? line.key : undefined
  if (key === undefined) return []
  switch (line.event) {
    case 'task:announced': return [{ kind: 'task_seen', task: key, peer }]
    case 'task:claimed': return line.self === true ? [{ kind: 'claim_won', task: key, peer, attempt: Number(line.attempt ?? 1) }] : []
    case 'task:running': return line.self === true ? [{ kind: 'agent_started', task: key, peer }] : []
    case 'task:result': {
      if (line.self !== true) return []
      const ok = line.type !== 'failure'
      return [
        { kind: 'agent_finished', task: key, peer, ok },
        { kind: 'published', task: key, peer, outcome: ok ? 'done' : 'failed', url: String(line.url ?? '') }
      ]
    }
    default: return []
  }
}

/** Where a daemon runs and listens: loopback by default; a network namespace for `netns`. */
export interface DaemonPlacement {
  /** A command prefix the daemon runs under (`ip netns exec <ns>`); empty: this machine as is. */
  wrap: string[]
  /** The address the mesh and the HTTP interface bind to; the sim reaches both there. */
  host: string
  meshPort: number
  httpPort: number
  /** Find peers by mDNS only: mDNS on, no bootstrap list. */
  mdns: boolean
}

/** What a daemon says about itself at the end of a run (while it is still up). */
export interface DaemonFacts {
  name: string
  nodeId: string
  /** Its configuration file as `bzzz start` read it. */
  config: Record<string, unknown>
  /** The node ids of the peers it has heard from (GET /api/peers). */
  peers: string[]
  /** Its open mesh connections (GET /api/status). */
  connections: number
}

export interface DaemonFactoryInit {
  /** Default: loopback, free ports, bootstrap through the peers already up. */
  placement?: (spec: NodeSpec) => DaemonPlacement | Promise<DaemonPlacement>
  /** Told each daemon's facts when its logs are verified at the end of the run. */
  observe?: (facts: DaemonFacts) => void
}

const loopback = async (): Promise<DaemonPlacement> => ({ wrap: [], host: '127.0.0.1', meshPort: await freePort(), httpPort: await freePort(), mdns: false })

export function daemonNodeFactory (agent: Scenario['agent'], init: DaemonFactoryInit = {}): NodeFactory {
  const cli = peerCliPath()
  return async (spec, { signal }) => {
    if (agent.failRate > 0 || agent.hangRate > 0) {
      throw new NodeError(spec.name, 'transport tcp runs the daemon\'s scripted agent: no failRate or hangRate (use memory)')
    }
    if (Math.abs(spec.now() - Date.now()) > 1000) throw new NodeError(spec.name, 'a skewed clock needs transport memory')
    await mkdir(dirname(spec.dataDir), { recursive: true })
    const tokenFile = `${spec.dataDir}.token`
    await writeFile(tokenFile, `${spec.token}\n`, { mode: 0o600 })
    const place = await (init.placement ?? loopback)(spec)
    const { host, httpPort, meshPort } = place
    const env: NodeJS.ProcessEnv = { ...process.env, ...daemonEnv(spec), BZZZ_DATA_DIR: spec.dataDir }
    delete env.GITHUB_TOKEN
    try {
      await exec(process.execPath, [
        cli, 'init', '--data-dir', spec.dataDir, '--name', spec.name, '--token-file', tokenFile,
        '--api-url', spec.forgeUrl, '--git-url', spec.forgeUrl, '--listen', `/ip4/${host}/tcp/${meshPort}`,
        '--http-port', String(httpPort), '--git-name', spec.login, '--git-email', `${spec.name}@bzzz.local`,
        ...spec.repos.flatMap((r) => ['--repo', r]),
        ...(place.mdns ? [] : spec.bootstrap.flatMap((b) => ['--bootstrap', b]))
      ], { env, signal })
      // The scripted agent's one step, with the scenario's work time.
      const configPath = join(spec.dataDir, 'config.yaml')
      const config = (parseYaml(await readFile(configPath, 'utf8')) ?? {}) as Record<string, unknown>
      config.agent = { ...(config.agent as object | undefined), kind: 'scripted', steps: [{ file: 'sim-{issue}.md', content: `Done by ${spec.name}.\n`, delayMs: Math.round((agent.workMs[0] + agent.workMs[1]) / 2) }] }
      if (place.mdns) config.mesh = { ...(config.mesh as object | undefined), mdns: true, bootstrap: [] }
      if (host !== '127.0.0.1') config.http = { ...(config.http as object | undefined), host }
      await writeFile(configPath, stringifyYaml(config))
    } catch (err) {
      throw new NodeError(spec.name, `bzzz init failed: ${(err as Error).message.split('\n')[0] ?? ''}`, { cause: err })
    }

    const argv = [...place.wrap, process.execPath, cli, 'start']
    const proc: ChildProcess = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<void>((resolve) => { proc.once('exit', () => { resolve() }) })
    let nodeId = ''
    let addrs: string[] = []
    const started = new Promise<void>((resolve, reject) => {
      let buf = ''
      let stderr = ''
      proc.stderr!.setEncoding('utf8')
      proc.stderr!.on('data', (d: string) => { stderr += d; spec.logLine(d.trimEnd()) })
      proc.once('exit', (code) => { reject(new NodeError(spec.name, `bzzz start exited with ${String(code)}: ${stderr.split('\n')[0] ?? ''}`)) })
      proc.stdout!.setEncoding('utf8')
      proc.stdout!.on('data', (chunk: string) => {
        buf += chunk
        let i
        while ((i = buf.indexOf('\n')) >= 0) {
          const text = buf.slice(0, i)
          buf = buf.slice(i + 1)
          spec.logLine(text)
          let line: Record<string, unknown>
          try { line = JSON.parse(text) as Record<string, unknown> } catch { continue }
          for (const e of eventOfLine(line, spec.name)) spec.report(e)
          if (line.event === 'daemon:started') {
            nodeId = String(line.nodeId)
            addrs = (line.addresses as string[] | undefined)?.filter((a) => a.startsWith(`/ip4/${host}/`)) ?? []
            resolve()
          }
        }
      })
    })
    const onAbort = (): void => { proc.kill('SIGKILL') }
    signal.addEventListener('abort', onAbort, { once: true })
    await started

    // Off loopback, every request needs the token the daemon keeps in its data directory.
    const httpToken = host === '127.0.0.1' ? undefined : (await readFile(join(spec.dataDir, 'http.token'), 'utf8')).trim()
    const api = async (path: string, s?: AbortSignal): Promise<unknown> => {
      const res = await fetch(`http://${host}:${httpPort}${path}`, {
        ...(s !== undefined ? { signal: s } : {}),
        ...(httpToken !== undefined ? { headers: { authorization: `Bearer ${httpToken}` } } : {})
      })
      if (!res.ok) throw new NodeError(spec.name, `GET ${path}: ${res.status}`)
      return await res.json()
    }
    // Keep the last counts seen: a killed daemon cannot be asked afterwards.
    let counted = 0
    let peers = 0
    const poll = async (): Promise<void> => {
      const s = await api('/api/status', AbortSignal.timeout(5000)) as { requests?: { counted?: number }, peers?: number }
      counted = s.requests?.counted ?? counted
      peers = s.peers ?? peers
    }
    const poller = setInterval(() => { poll().catch(() => {}) }, 1000)
    const end = async (how: NodeJS.Signals, waitMs: number): Promise<void> => {
      clearInterval(poller)
      signal.removeEventListener('abort', onAbort)
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill(how)
      const timer = setTimeout(() => { proc.kill('SIGKILL') }, waitMs)
      await exited
      clearTimeout(timer)
    }
    const node: SimNode = {
      name: spec.name,
      peerId: nodeId,
      multiaddrs: () => addrs,
      stop: async () => { await poll().catch(() => {}); await end('SIGTERM', 30_000) },
      kill: async () => { await end('SIGKILL', 0) },
      partition: async () => { throw new NodeError(spec.name, 'partitions need transport memory') },
      heal: async () => {},
      connections: () => peers,
      requestCounts: () => ({ total: counted, scopes: {} }),
      verifyLogs: async ({ signal }): Promise<LogCheck> => {
        await poll().catch(() => {})
        if (init.observe !== undefined) {
          const peerList = await api('/api/peers', signal).catch(() => []) as Array<{ nodeId?: string }>
          const config = (parseYaml(await readFile(join(spec.dataDir, 'config.yaml'), 'utf8')) ?? {}) as Record<string, unknown>
          init.observe({ name: spec.name, nodeId, config, peers: peerList.flatMap((p) => (typeof p.nodeId === 'string' ? [p.nodeId] : [])), connections: peers })
        }
        const checks = await api('/api/log/verify', signal) as Array<{ author: string, length: number, ok: boolean, error?: { seq: number, code: string, message: string } }>
        const bad = checks.find((c) => !c.ok)
        return {
          peer: spec.name,
          ok: checks.length > 0 && bad === undefined,
          entries: checks.reduce((n, c) => n + c.length, 0),
          ...(bad !== undefined ? { error: `log of ${bad.author.slice(-8)} entry ${bad.error?.seq ?? '?'}: ${bad.error?.code ?? ''}` } : checks.length === 0 ? { error: 'no log to verify' } : {})
        }
      }
    }
    return node
  }
}
