/**
 * `bzzz-sim` (`pnpm sim` from the repository root): options over a scenario file, a live
 * progress view, the report as a table, `--json FILE` and `--html FILE`. Exit 0 when every
 * invariant and goal holds, 1 when one fails (named in the report), 2 on a usage error, 130
 * when interrupted before the report.
 */
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { SimError } from './errors.js'
import { renderHtml } from './html.js'
import type { NodeFactory, SimTransport } from './node.js'
import { createProgressView } from './progress.js'
import { runScenario } from './runner.js'
import { applyOverrides, loadScenario, type Overrides, type Scenario } from './scenario.js'
import { formatTable } from './table.js'

export const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios')

/** A scenario by name (`peer-killed`: apps/sim/scenarios/peer-killed.yaml) or by path. */
export function scenarioPath (nameOrPath: string): string {
  if (nameOrPath.includes('/') || nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.json')) return nameOrPath
  return join(SCENARIO_DIR, `${nameOrPath}.yaml`)
}

const int = (what: string, min: number) => (value: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be an integer >= ${min}`)
  return n
}

const rate = (value: string): number => {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0 || n > 10_000) throw new InvalidArgumentError('issue rate must be a number of issues per second, above 0 and at most 10000')
  return n
}

/** `scripted`, `cli` or `cli:<name>`. */
function agentKind (value: string): { kind: 'scripted' | 'cli', cli?: string } {
  if (value === 'scripted') return { kind: 'scripted' }
  const m = /^cli(?::([a-z]+))?$/.exec(value)
  if (m === null) throw new InvalidArgumentError('must be scripted, cli, cli:claude or cli:codex')
  return m[1] !== undefined ? { kind: 'cli', cli: m[1] } : { kind: 'cli' }
}

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean, columns?: number }
  stderr: NodeJS.WritableStream
  /** The peers of a run: a node factory, or a transport with the network it makes (netns). */
  nodeFactory: (scenario: Scenario) => NodeFactory | SimTransport
  signal?: AbortSignal
}

interface Options {
  scenario: string
  peers?: number
  issues?: number
  transport?: 'memory' | 'tcp' | 'netns'
  agent?: { kind: 'scripted' | 'cli', cli?: string }
  seed?: number
  duration?: number
  issueRate?: number
  json?: string
  html?: string
  quiet?: boolean
}

export async function runCli (argv: readonly string[], io: CliIo): Promise<number> {
  const program = new Command('bzzz-sim')
    .description('A whole Bzzz mesh on one machine against a local GitHub, with faults and a report')
    .option('-s, --scenario <name|file>', 'a scenario in apps/sim/scenarios (by name) or a YAML/JSON file', 'default')
    .option('-p, --peers <n>', 'number of peers', int('peers', 1))
    .option('-i, --issues <n>', 'number of labelled issues', int('issues', 0))
    .option('--issue-rate <per-second>', 'label the issues at this rate once every peer is up (default: all labelled from the start)', rate)
    .addOption(new Option('-t, --transport <kind>', 'memory: every peer in this process; tcp: a bzzz daemon process per peer on loopback; netns: a daemon per peer in its own network namespace, found by mDNS (root, iproute2)').choices(['memory', 'tcp', 'netns']))
    .option('-a, --agent <kind>', 'scripted; or cli[:claude|codex]: a real agent CLI per peer against the scripted model server (memory transport, root)', agentKind)
    .option('--seed <n>', 'seed: the same seed replays the same faults and agent fates', int('seed', 0))
    .option('-d, --duration <seconds>', 'stop after this long, whatever is left (left tasks are lost)', int('duration', 1))
    .option('--json <file>', 'write the report as JSON')
    .option('--html <file>', 'write the report as one self-contained HTML page')
    .option('-q, --quiet', 'no live progress')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
  let opts: Options
  try {
    program.parse([...argv], { from: 'user' })
    opts = program.opts<Options>()
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2
    throw err
  }
  try {
    const file = scenarioPath(opts.scenario)
    if (!existsSync(file)) {
      io.stderr.write(`bzzz-sim: no scenario ${opts.scenario} (${file})\n`)
      return 2
    }
    const overrides: Overrides = {
      ...(opts.peers !== undefined ? { peers: opts.peers } : {}),
      ...(opts.issues !== undefined ? { issues: opts.issues } : {}),
      ...(opts.transport !== undefined ? { transport: opts.transport } : {}),
      ...(opts.agent !== undefined ? { agent: opts.agent.kind, ...(opts.agent.cli !== undefined ? { agentCli: opts.agent.cli } : {}) } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.issueRate !== undefined ? { issueRate: opts.issueRate } : {}),
      ...(opts.duration !== undefined ? { durationMs: opts.duration * 1000 } : {})
    }
    const scenario = applyOverrides(await loadScenario(file, io.signal !== undefined ? { signal: io.signal } : {}), overrides)
    const agentName = scenario.agent.kind === 'cli' ? `cli:${scenario.agent.cli ?? 'claude'}` : scenario.agent.kind
    io.stdout.write(`bzzz-sim: ${scenario.name}: ${scenario.peers} peers (${scenario.transport}), ${scenario.issues} issues, ${agentName} agent, seed ${scenario.seed}\n`)
    const view = opts.quiet === true ? undefined : createProgressView({ out: io.stdout })
    const made = io.nodeFactory(scenario)
    const transport: SimTransport = typeof made === 'function' ? { nodeFactory: made } : made
    const { report } = await runScenario({
      scenario,
      nodeFactory: transport.nodeFactory,
      ...(transport.network !== undefined ? { network: transport.network } : {}),
      ...(view !== undefined ? { view } : {}),
      ...(io.signal !== undefined ? { signal: io.signal } : {})
    })
    io.stdout.write(`\n${formatTable(report)}\n`)
    if (opts.json !== undefined) await writeFile(opts.json, `${JSON.stringify(report, null, 2)}\n`)
    if (opts.html !== undefined) await writeFile(opts.html, renderHtml(report))
    return report.ok ? 0 : 1
  } catch (err) {
    // Interrupted (SIGINT, SIGTERM): the run stopped its peers and removed what it made on the way out.
    if (io.signal?.aborted === true) {
      io.stderr.write('bzzz-sim: interrupted\n')
      return 130
    }
    if (err instanceof SimError) {
      io.stderr.write(`bzzz-sim: ${err.message}\n`)
      return 2
    }
    throw err
  }
}
