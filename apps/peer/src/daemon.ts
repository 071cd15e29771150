// `bzzz start`: a node built from the configuration, its HTTP interface, and the process's
// signals — SIGTERM/SIGINT drain (no new claims; running work finishes, or pushes its WIP and
// releases its claim; exit within 30 s), SIGHUP reloads the configuration.
import { mkdir } from 'node:fs/promises'
import { createGitHubClient, type GitHubClient } from '@bzzz/github'
import type { Logger } from 'pino'
import { detectedCapabilities, staticCapabilities } from './capabilities.js'
import type { Config } from './config-schema.js'
import { loadConfig } from './config.js'
import { ForgeUnreachableError, PortInUseError } from './errors.js'
import type { TaskExecutor } from './execution.js'
import { startHttp, type HttpServer } from './http.js'
import { createNode, type BzzzNode, type NodeInit } from './node.js'
import { createAgentExecutor } from './agent-executor.js'
import { createScriptedExecutor } from './scripted-executor.js'
import { ensureHttpToken, readSecretFile, resolveGitHubToken } from './secrets.js'
import { submitTask } from './submit.js'

/** Turns an executor's failures into requests for help with `capability` (e.g. an Ollama model failed: ask for `claude`). */
export function withEscalation (executor: TaskExecutor, capability: string): TaskExecutor {
  return {
    ...(executor.offers !== undefined ? { offers: executor.offers } : {}),
    run: async (work) => {
      const out = await executor.run(work)
      return out.kind === 'failure' ? { kind: 'help', capability, reason: `${out.reason} (escalated: ask for ${capability})` } : out
    }
  }
}

/** Checks that the forge answers and accepts the token; resolves to the token's login. */
export async function checkForge (client: GitHubClient, apiUrl: string, timeoutMs = 10_000): Promise<string> {
  try {
    // One plain request first: a refused connection or an unknown host fails at once, not after the client's retries.
    await fetch(apiUrl, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } }
    throw new ForgeUnreachableError(apiUrl, e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : e.cause?.code ?? e.message)
  }
  try {
    return await client.login({ signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    const e = err as Error & { status?: number, cause?: { code?: string } }
    const reason = e.status === 401
      ? 'the token was refused (401): check github.tokenFile'
      : e.status !== undefined
        ? `it answered ${e.status}`
        : e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${timeoutMs / 1000} s` : e.message
    throw new ForgeUnreachableError(apiUrl, reason)
  }
}

export interface BuiltNode {
  node: BzzzNode
  client: GitHubClient
  login: string
  secrets: string[]
}

/** The node a configuration describes (not started). Checks the token, the forge and the secret files first. */
export async function nodeFromConfig (config: Config, logger: Logger, options: { env?: NodeJS.ProcessEnv, overrides?: Partial<NodeInit> } = {}): Promise<BuiltNode> {
  const env = options.env ?? process.env
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const token = await resolveGitHubToken(config.github, env)
  const networkKey = config.mesh.networkKeyFile !== undefined ? await readSecretFile(config.mesh.networkKeyFile) : undefined
  const client = await createGitHubClient({
    token,
    baseUrl: config.github.apiUrl,
    gitBaseUrl: config.github.gitUrl,
    log: (() => {
      const l = logger.child({ component: 'github' })
      return { debug: (m: string) => { l.debug(m) }, info: (m: string) => { l.info(m) }, warn: (m: string) => { l.warn(m) }, error: (m: string) => { l.error(m) } }
    })()
  })
  const login = await checkForge(client, config.github.apiUrl)
  const identity = { name: config.git.name ?? login, email: config.git.email ?? `${login}@users.noreply.github.com` }
  let executor: TaskExecutor | undefined
  if (config.agent.kind === 'scripted') {
    executor = createScriptedExecutor({ identity, ...(config.agent.steps !== undefined ? { steps: config.agent.steps } : {}), offers: config.agent.offers })
  } else if (config.agent.kind !== 'none') {
    const { createAgentAdapter, createCommandAdapter } = await import('@bzzz/executor')
    const agent = config.agent.kind === 'command'
      ? createCommandAdapter({ command: config.agent.command ?? ['false'], format: 'jsonl' })
      : config.agent.kind === 'ollama'
        ? createAgentAdapter('ollama', { ...(config.capabilities.ollamaHost !== undefined ? { host: config.capabilities.ollamaHost } : {}), ...(config.agent.model !== undefined ? { model: config.agent.model } : {}) })
        : createAgentAdapter(config.agent.kind)
    executor = createAgentExecutor({
      dataDir: config.dataDir,
      agent,
      identity,
      sandbox: config.agent.sandbox ? 'bwrap' : 'none',
      ...(config.agent.model !== undefined ? { model: config.agent.model } : {}),
      offers: config.agent.offers.length > 0 ? config.agent.offers : [config.agent.kind],
      // The executor would post a failure report itself: escalation holds it back and asks the mesh.
      ...(config.agent.escalate !== undefined ? { escalate: config.agent.escalate } : {})
    })
  }
  if (executor !== undefined && config.agent.escalate !== undefined && config.agent.kind === 'scripted') executor = withEscalation(executor, config.agent.escalate)
  const t = config.timings
  const node = await createNode({
    ...(config.name !== undefined ? { name: config.name } : {}),
    dataDir: config.dataDir,
    mesh: {
      transport: config.mesh.transport,
      meshName: config.mesh.name,
      ...(config.mesh.listen.length > 0 ? { listen: config.mesh.listen } : {}),
      announce: config.mesh.announce,
      bootstrap: config.mesh.bootstrap,
      mdns: config.mesh.mdns,
      dht: config.mesh.dht,
      ...(networkKey !== undefined ? { networkKey } : {}),
      ...(config.mesh.allowlist !== undefined ? { allowlist: config.mesh.allowlist } : {})
    },
    github: { client },
    repos: config.repos,
    store: 'sqlite',
    ...(executor !== undefined ? { executor } : {}),
    capabilities: config.capabilities.detect
      ? detectedCapabilities({ name: config.name ?? '', ...(config.capabilities.ollamaHost !== undefined ? { ollamaHost: config.capabilities.ollamaHost } : {}) })
      : staticCapabilities({ installed: config.capabilities.installed, models: config.capabilities.models, ...(config.name !== undefined ? { name: config.name } : {}) }),
    slots: config.agent.slots,
    logger,
    watch: { label: config.watch.label, overlapMs: config.watch.overlapMs, ...(config.watch.trustedAssociations !== undefined ? { trustedAssociations: config.watch.trustedAssociations } : {}) },
    timings: {
      presenceMs: t.presenceMs,
      capabilitiesMs: t.capabilitiesMs,
      tickMs: t.tickMs,
      ...(t.warmUpMs !== undefined ? { warmUpMs: t.warmUpMs } : {}),
      watchIntervalMs: config.watch.intervalMs,
      reposRefreshMs: config.watch.reposRefreshMs,
      replicateMs: t.replicateMs,
      leaseMs: t.leaseMs,
      ...(t.renewEveryMs !== undefined ? { renewEveryMs: t.renewEveryMs } : {}),
      settleMs: t.settleMs,
      standbyStepMs: t.standbyStepMs,
      drainTimeoutMs: t.drainTimeoutMs,
      liveness: {
        ...(t.suspectAfterMs !== undefined ? { suspectAfterMs: t.suspectAfterMs } : {}),
        ...(t.deadAfterMs !== undefined ? { deadAfterMs: t.deadAfterMs } : {})
      }
    },
    ...options.overrides
  })
  return { node, client, login, secrets: [token, ...(networkKey !== undefined ? [networkKey] : [])] }
}

export interface Daemon {
  node: BzzzNode
  http: HttpServer | undefined
  /** Re-reads the configuration file and applies what can change live (repositories, log level). */
  reload: () => Promise<void>
  /** Drains and stops; resolves when everything is down. */
  shutdown: (reason: string) => Promise<void>
  /** Resolves once the daemon has stopped (after a drain). */
  stopped: Promise<void>
}

export interface DaemonInit {
  config: Config
  configPath: string | undefined
  logger: Logger
  env?: NodeJS.ProcessEnv
  /** Install SIGTERM/SIGINT/SIGHUP handlers. Default true. */
  signals?: boolean
}

function translateStartError (err: unknown, config: Config): unknown {
  const message = (err as Error).message ?? ''
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' || /EADDRINUSE/.test(message)) {
    return new PortInUseError(`mesh ${config.mesh.listen.join(', ')}`)
  }
  return err
}

/** Starts the daemon: node, HTTP interface, signals. */
export async function startDaemon (init: DaemonInit): Promise<Daemon> {
  const { config, logger } = init
  const env = init.env ?? process.env
  const built = await nodeFromConfig(config, logger, { env })
  const { node, client } = built
  let http: HttpServer | undefined
  const httpToken = await ensureHttpToken(config.dataDir)
  let shuttingDown: Promise<void> | undefined
  let resolveStopped: () => void = () => {}
  const stopped = new Promise<void>((resolve) => { resolveStopped = resolve })

  const shutdown = async (reason: string): Promise<void> => {
    shuttingDown ??= (async () => {
      logger.info({ event: 'daemon:draining', reason }, 'draining')
      const hard = setTimeout(() => {
        logger.error({ event: 'daemon:drain-timeout' }, 'the drain did not finish in 30 s: exiting')
        process.exit(1)
      }, 30_000)
      hard.unref()
      try {
        await node.drain({ timeoutMs: config.timings.drainTimeoutMs })
      } finally {
        clearTimeout(hard)
        await http?.close().catch(() => {})
        logger.info({ event: 'daemon:stopped' }, 'stopped')
        resolveStopped()
      }
    })()
    await shuttingDown
  }

  try {
    if (config.http.enabled) {
      http = await startHttp({
        node,
        host: config.http.host,
        port: config.http.port,
        token: httpToken,
        onDrain: () => { shutdown('http drain').catch(() => {}) },
        onSubmit: async (input) => (await submitTask(client, { ...input, label: config.watch.label })).url
      })
    }
    await node.start().catch((err: unknown) => { throw translateStartError(err, config) })
  } catch (err) {
    await http?.close().catch(() => {})
    if (node.phase !== 'stopped') await node.kill().catch(() => {})
    throw err
  }
  logger.info({
    event: 'daemon:started', nodeId: node.nodeId, login: built.login, http: http?.url, addresses: node.status().addresses, repos: node.repos()
  }, 'bzzz started')

  const reload = async (): Promise<void> => {
    try {
      const { config: next } = await loadConfig({ ...(init.configPath !== undefined ? { path: init.configPath } : {}), env })
      logger.level = next.log.level
      const repos = await node.setRepos(next.repos)
      const restart = (['mesh', 'http', 'github', 'agent', 'dataDir'] as const).filter((k) => JSON.stringify(next[k]) !== JSON.stringify(config[k]))
      logger.info({ event: 'daemon:reloaded', repos, needsRestart: restart }, 'configuration reloaded')
    } catch (err) {
      logger.error({ event: 'daemon:reload-failed', err: (err as Error).message }, 'configuration not reloaded')
    }
  }

  if (init.signals !== false) {
    const onTerm = (signal: string) => () => { shutdown(signal).then(() => { process.exit(0) }, () => { process.exit(1) }) }
    process.once('SIGTERM', onTerm('SIGTERM'))
    process.once('SIGINT', onTerm('SIGINT'))
    process.on('SIGHUP', () => { reload().catch(() => {}) })
  }
  return { node, http, reload, shutdown, stopped }
}
