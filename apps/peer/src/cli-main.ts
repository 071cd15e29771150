// The `bzzz` command line. Every command takes `--config FILE`; errors are one line, no stack.
import { Command, InvalidArgumentError } from 'commander'
import { join } from 'node:path'
import type { Config } from './config-schema.js'
import { defaultDataDir, loadConfig } from './config.js'
import type { Check } from './doctor.js'
import { DaemonUnreachableError, TaskArgumentError } from './errors.js'
import { localClient } from './local-client.js'
import { createLogger } from './logger.js'
import type { LogCheck, NodeStatus } from './node.js'
import { isRepoPattern } from './repos.js'
import { resolveGitHubToken } from './secrets.js'
import { submitTask } from './submit.js'
import { shortId, table } from './table.js'
import type { PeerSummary, TaskSummary } from './views.js'

export interface CliIo {
  out: (text: string) => void
  err: (text: string) => void
  env: NodeJS.ProcessEnv
}

const ago = (ms: number): string => {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000))
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`
}

function port (value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number 0-65535')
  return n
}

function repo (value: string, previous: string[] = []): string[] {
  if (!isRepoPattern(value)) throw new InvalidArgumentError('owner/name or owner/*')
  return [...previous, value]
}

function many (value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

export function buildCli (io: CliIo): Command {
  const program = new Command('bzzz')
    .description('a peer of the Bzzz mesh: runs AI coding agents on GitHub issues with its peers')
    .option('-c, --config <file>', 'configuration file (default: config.yaml in the data directory)')
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()

  const config = async (): Promise<{ config: Config, path: string | undefined }> => {
    const path = program.opts<{ config?: string }>().config
    return await loadConfig({ ...(path !== undefined ? { path } : {}), env: io.env })
  }
  const print = (json: boolean, data: unknown, text: () => string): void => {
    io.out(json ? JSON.stringify(data, null, 2) : text())
  }

  program.command('init')
    .description('write a configuration, an identity key and a data directory (never overwrites)')
    .option('--data-dir <dir>', 'data directory', defaultDataDir(io.env))
    .option('--name <name>', 'a name for this node')
    .option('--repo <owner/name>', 'a watched repository, or owner/* (repeatable)', repo)
    .option('--token-file <file>', 'file holding the GitHub token (mode 0600)')
    .option('--api-url <url>', 'GitHub API root (a forge for tests)')
    .option('--git-url <url>', 'git root')
    .option('--listen <multiaddr>', 'mesh listen address (repeatable)', many)
    .option('--bootstrap <multiaddr>', 'a bootstrap peer (repeatable)', many)
    .option('--http-port <port>', 'local HTTP port', port)
    .option('--network-key', 'make a private mesh key (share it with every peer)')
    .option('--git-name <name>', 'commit author name')
    .option('--git-email <email>', 'commit author e-mail')
    .action(async (o: { dataDir: string, name?: string, repo?: string[], tokenFile?: string, apiUrl?: string, gitUrl?: string, listen?: string[], bootstrap?: string[], httpPort?: number, networkKey?: boolean, gitName?: string, gitEmail?: string }) => {
      const configPath = program.opts<{ config?: string }>().config
      const { initNode } = await import('./init.js')
      const r = await initNode({
        dataDir: o.dataDir,
        ...(configPath !== undefined ? { configPath } : {}),
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(o.repo !== undefined ? { repos: o.repo } : {}),
        ...(o.tokenFile !== undefined ? { tokenFile: o.tokenFile } : {}),
        ...(o.apiUrl !== undefined ? { apiUrl: o.apiUrl } : {}),
        ...(o.gitUrl !== undefined ? { gitUrl: o.gitUrl } : {}),
        ...(o.listen !== undefined ? { listen: o.listen } : {}),
        ...(o.bootstrap !== undefined ? { bootstrap: o.bootstrap } : {}),
        ...(o.httpPort !== undefined ? { httpPort: o.httpPort } : {}),
        ...(o.networkKey === true ? { networkKey: true } : {}),
        ...(o.gitName !== undefined ? { gitName: o.gitName } : {}),
        ...(o.gitEmail !== undefined ? { gitEmail: o.gitEmail } : {})
      })
      io.out(`configuration ${r.configPath}\nidentity ${r.identityPath} (peer ${r.peerId})${r.networkKeyPath !== undefined ? `\nnetwork key ${r.networkKeyPath}` : ''}`)
    })

  program.command('start')
    .description('run the daemon in the foreground (JSON logs on stdout)')
    .action(async () => {
      const { config: c, path } = await config()
      let secrets: readonly string[] = []
      const logger = createLogger({ level: c.log.level, secrets: () => secrets })
      secrets = [await resolveGitHubToken(c.github, io.env)]
      const { startDaemon } = await import('./daemon.js')
      const daemon = await startDaemon({ config: c, configPath: path, logger, env: io.env })
      await daemon.stopped
    })

  const view = (name: string, description: string, fn: (c: Config, json: boolean) => Promise<void>): void => {
    program.command(name).description(description).option('--json', 'JSON instead of a table')
      .action(async (o: { json?: boolean }) => { await fn((await config()).config, o.json === true) })
  }
  view('status', 'this node: phase, peers, watched repositories, slots', async (c, json) => {
    const s = await localClient(c).get<NodeStatus>('/api/status')
    print(json, s, () => [
      `node     ${s.nodeId}${s.name !== undefined ? ` (${s.name})` : ''}`,
      `phase    ${s.phase}`,
      `peers    ${s.peers} connected`,
      `repos    ${s.repos.join(', ') || '-'}`,
      `watching ${s.watching.join(', ') || '-'}`,
      `working  ${s.active.join(', ') || '-'} (slots ${s.slots.free}/${s.slots.total} free)`,
      `log      ${s.log.length} entries`,
      `github   ${s.requests.counted} counted requests, ${s.requests.notModified} free`,
      ...s.addresses.map((a) => `address  ${a}`)
    ].join('\n'))
  })
  view('peers', 'the peers this node knows, with liveness and load', async (c, json) => {
    const peers = await localClient(c).get<PeerSummary[]>('/api/peers')
    print(json, peers, () => table(['peer', 'name', 'liveness', 'status', 'load', 'slots', 'tasks', 'heard'],
      peers.map((p) => [shortId(p.nodeId), p.name, p.liveness, p.status, p.load, p.slotsFree, p.activeTasks.join(' ') || '-', ago(p.lastHeardAt)])))
  })
  view('tasks', 'the tasks this node knows: state, holder, attempt, result', async (c, json) => {
    const tasks = await localClient(c).get<TaskSummary[]>('/api/tasks')
    print(json, tasks, () => table(['task', 'state', 'holder', 'attempt', 'result', 'title'],
      tasks.map((t) => [t.key, t.status, shortId(t.holder), t.attempt, t.resultUrl, t.title])))
  })
  view('capabilities', 'what each peer can do (agent CLIs, models, GPUs)', async (c, json) => {
    const caps = await localClient(c).get<Array<{ nodeId: string, liveness: string, capabilities: { installed: string[], models: string[], gpus?: Array<{ name: string }>, cpu: number, mem?: number } | null }>>('/api/capabilities')
    print(json, caps, () => table(['peer', 'liveness', 'agents', 'models', 'gpus', 'cpu', 'mem'],
      caps.map((p) => [shortId(p.nodeId), p.liveness, p.capabilities?.installed.join(' ') || '-', p.capabilities?.models.join(' ') || '-',
        p.capabilities?.gpus?.map((g) => g.name).join(' ') || '-', p.capabilities?.cpu, p.capabilities?.mem])))
  })

  program.command('log').description('the signed logs').command('verify')
    .description('verify this node\'s log and every replicated one; name the failing entry')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const { config: c } = await config()
      let checks: LogCheck[]
      try {
        checks = await localClient(c).get<LogCheck[]>('/api/log/verify')
      } catch (err) {
        if (!(err instanceof DaemonUnreachableError)) throw err
        const { openStateStore, verifyLog } = await import('@bzzz/state')
        const store = openStateStore({ path: join(c.dataDir, 'state.db') })
        try {
          checks = []
          for (const head of store.logHeads()) {
            try {
              await verifyLog(head.author, store.logRange(head.author, 0, head.length))
              checks.push({ author: head.author, length: head.length, ok: true })
            } catch (e) {
              const v = e as Error & { seq?: number, code?: string }
              checks.push({ author: head.author, length: head.length, ok: false, error: { seq: v.seq ?? -1, code: v.code ?? v.name, message: v.message } })
            }
          }
        } finally {
          store.close()
        }
      }
      print(o.json === true, checks, () => table(['author', 'entries', 'result'],
        checks.map((k) => [k.author, k.length, k.ok ? 'ok' : `FAILS at entry ${k.error?.seq}: ${k.error?.message}`])))
      if (checks.some((k) => !k.ok)) process.exitCode = 1
    })

  program.command('doctor')
    .description('check the token, repositories, git, Ollama, agent CLIs, clock, ports, mDNS and key files')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const { config: c } = await config()
      const daemonRunning = await localClient(c).get('/api/status').then(() => true, () => false)
      const { runDoctor } = await import('./doctor.js')
      const checks: Check[] = await runDoctor({ config: c, env: io.env, daemonRunning })
      print(o.json === true, checks, () => checks.map((k) =>
        `${k.status === 'ok' ? 'ok  ' : k.status === 'warn' ? 'warn' : 'FAIL'}  ${k.name}: ${k.detail}${k.fix !== undefined && k.status !== 'ok' ? `\n      fix: ${k.fix}` : ''}`).join('\n'))
      if (checks.some((k) => k.status === 'fail')) process.exitCode = 1
    })

  const task = program.command('task').description('start or run tasks')
  task.command('submit')
    .description('open a labelled issue in a watched repository: the mesh takes it from there')
    .requiredOption('--repo <owner/name>', 'the repository')
    .requiredOption('--title <title>', 'the issue title')
    .option('--body <text>', 'the issue body (the agent\'s instructions)', '')
    .action(async (o: { repo: string, title: string, body: string }) => {
      const { config: c } = await config()
      const { createGitHubClient } = await import('@bzzz/github')
      const client = await createGitHubClient({ token: await resolveGitHubToken(c.github, io.env), baseUrl: c.github.apiUrl, gitBaseUrl: c.github.gitUrl })
      const issue = await submitTask(client, { ...o, label: c.watch.label })
      io.out(issue.url)
    })
  task.command('run')
    .description('claim and run one issue on this machine alone, through the same claim and executor')
    .argument('<issue>', 'issue number, or owner/name#number', (v: string) => v)
    .option('--repo <owner/name>', 'the repository (default: the only watched one)')
    .action(async (issueArg: string, o: { repo?: string }) => {
      const { config: c } = await config()
      const m = /^(?:([^#\s]+)#)?(\d+)$/.exec(issueArg)
      // Checked here, after parsing: commander prints only the errors of its own parsing.
      if (m === null) throw new TaskArgumentError(`issue ${JSON.stringify(issueArg)}`, 'a number or owner/name#number')
      const repoName = m[1] ?? o.repo ?? (c.repos.length === 1 && !c.repos[0]!.endsWith('/*') ? c.repos[0] : undefined)
      if (repoName === undefined) throw new TaskArgumentError('repository', `say which: --repo owner/name or owner/name#${m[2]} (${c.repos.length} watched)`)
      const logger = createLogger({ level: c.log.level === 'info' ? 'warn' : c.log.level, destination: undefined })
      const { nodeFromConfig } = await import('./daemon.js')
      const { staticCapabilities } = await import('./capabilities.js')
      const { node } = await nodeFromConfig(c, logger, {
        env: io.env,
        overrides: {
          mesh: { transport: 'memory', identityPath: join(c.dataDir, 'identity.key') },
          store: 'memory',
          repos: [],
          capabilities: staticCapabilities({ installed: c.capabilities.installed, models: c.capabilities.models })
        }
      })
      node.on('task:progress', ({ event }) => { io.err(`${event.kind}: ${event.text}`) })
      await node.start()
      try {
        const end = await node.runTask(repoName, Number(m[2]))
        io.out(end.end === 'published' ? `${end.type} ${end.url}` : end.end === 'error' ? `error: ${end.error.message}` : JSON.stringify(end))
        if (end.end !== 'published' || end.type !== 'pull_request') process.exitCode = 1
      } finally {
        await node.stop()
      }
    })
  return program
}
