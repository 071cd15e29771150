/**
 * `agent: cli`: every peer runs a real agent CLI (`claude` by default, or `codex`) through
 * @bzzz/executor, as the daemon does, against one scripted model server per run. The server
 * listens on a Unix socket; each CLI runs in a loopback-only network namespace whose bridge
 * forwards to that socket (`withLoopbackNamespace`), so nothing leaves the machine. Needs root
 * (`unshare -n`) and the CLI (the executor's pinned devDependency, or one on PATH).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  canUseNetworkNamespaces, createAgentAdapter, createScriptedModelServer, withLoopbackNamespace,
  type AgentEvent, type CliAgentAdapter, type ModelScript, type ScriptedModelServer
} from '@bzzz/executor'
import type { NodeInit } from '@bzzz/peer'
import { taskOfPrompt } from './agent.js'
import { ArgumentError } from './errors.js'

/** The CLIs the sim runs (gemini and opencode work with the executor too, but are not wired here). */
export const SIM_CLIS = ['claude', 'codex'] as const
export type SimCli = typeof SIM_CLIS[number]

export const isSimCli = (name: string): name is SimCli => (SIM_CLIS as readonly string[]).includes(name)

/** The file every run writes, and the model's last word. */
export const CLI_SCRIPT: ModelScript = {
  actions: [{ write: { path: 'sim-agent.md', content: '# Done\n\nWritten by a real agent CLI against the scripted model server.\n' } }],
  final: 'Added sim-agent.md.'
}

export type AgentOptions = NonNullable<NodeInit['agentOptions']>
export type OnRun = (what: { task: string, phase: 'start' } | { task: string, phase: 'end', ok: boolean }) => void

export interface CliAgents {
  cli: SimCli
  /** The peer's adapter: the CLI in a loopback-only namespace, telling `onRun` when a run starts and ends. */
  agentFor: (peer: string, onRun: OnRun) => CliAgentAdapter
  /** createNode's `agentOptions` for the peer: PATH, HOME, the model endpoint, limits. */
  options: (peer: string) => AgentOptions
  /** Requests the model server answered. */
  requests: () => number
  close: () => Promise<void>
}

/** The executor's own node_modules/.bin (where its pinned CLIs are), if there is one. */
function executorBin (): string | undefined {
  const entry = fileURLToPath(import.meta.resolve('@bzzz/executor'))
  const bin = join(dirname(dirname(entry)), 'node_modules', '.bin')
  return existsSync(bin) ? bin : undefined
}

function onPath (file: string, path: string): boolean {
  return path.split(':').some((d) => d !== '' && existsSync(join(d, file)))
}

export async function startCliAgents (init: { cli: string, dir: string, timeoutMs: number }): Promise<CliAgents> {
  const { cli } = init
  if (!isSimCli(cli)) throw new ArgumentError('agent', `cli:${cli} is not one the sim runs (${SIM_CLIS.join(', ')})`)
  if (!canUseNetworkNamespaces()) throw new ArgumentError('agent', 'cli runs each agent CLI in a loopback-only network namespace (unshare -n): it needs root; use scripted')
  const bin = executorBin()
  const path = [dirname(process.execPath), ...(bin !== undefined ? [bin] : []), process.env.PATH ?? '', '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'].filter((d) => d !== '').join(':')
  if (!onPath(cli, path)) throw new ArgumentError('agent', `cli:${cli}: no \`${cli}\` found on PATH (${cli === 'claude' ? '@anthropic-ai/claude-code' : '@openai/codex'} is a devDependency of @bzzz/executor)`)
  mkdirSync(init.dir, { recursive: true })
  const socketPath = join(init.dir, 'model.sock')
  const server: ScriptedModelServer = createScriptedModelServer({ script: CLI_SCRIPT, socketPath })
  await server.start()
  const keyEnv: Record<string, string> = cli === 'claude' ? { ANTHROPIC_API_KEY: 'dummy' } : {}
  return {
    cli,
    agentFor: (peer, onRun) => {
      const inner = withLoopbackNamespace(createAgentAdapter(cli) as CliAgentAdapter, [{ port: server.port, socketPath }])
      let task = 'unknown'
      return {
        ...inner,
        command: (spec) => {
          task = taskOfPrompt(spec.prompt) ?? 'unknown'
          onRun({ task, phase: 'start' })
          return inner.command(spec)
        },
        parser: () => {
          const parse = inner.parser()
          return (line: string): AgentEvent[] => {
            const events = parse(line)
            for (const e of events) if (e.type === 'final') onRun({ task, phase: 'end', ok: e.ok })
            return events
          }
        }
      }
    },
    options: (peer) => {
      const home = join(init.dir, 'home', peer)
      mkdirSync(home, { recursive: true })
      return {
        identity: { name: `bzzz-${peer}`, email: `${peer}@bzzz.local` },
        wipIntervalMs: 0,
        ...(cli === 'codex' ? { model: 'scripted' } : {}),
        endpoint: { baseUrl: server.url, apiKeyEnv: 'SCRIPTED_API_KEY' },
        env: { PATH: path, HOME: home, IS_SANDBOX: '1', SCRIPTED_API_KEY: 'scripted-key', ...keyEnv },
        // A real CLI starts slower than the scripted agent: at least two minutes per run.
        limits: { wallClockMs: Math.max(init.timeoutMs, 120_000), inactivityMs: Math.max(init.timeoutMs, 120_000) }
      }
    },
    requests: () => server.requests.length,
    close: async () => { await server.stop() }
  }
}
