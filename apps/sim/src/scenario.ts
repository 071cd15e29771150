/**
 * Scenario files (apps/sim/scenarios/*.yaml): what a run starts, what it breaks and when.
 * Validated against a TypeBox schema; every error names the path and what was expected.
 * Pure apart from `loadScenario`, which reads the file.
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import { parse as parseYaml } from 'yaml'
import { ScenarioError } from './errors.js'

const Ms = Type.Integer({ minimum: 0, maximum: 86_400_000 })
const Rate = Type.Number({ minimum: 0, maximum: 1 })
const Range = Type.Union([Ms, Type.Tuple([Ms, Ms])])

/** A peer killed (no drain, no release) while its agent works on a task. */
export const KillFault = Type.Object({
  kind: Type.Literal('kill'),
  /** Kill the holder of the n-th task to start running (1-based; default 1). */
  nthTask: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 }))
}, { additionalProperties: false })

/** The mesh split into two halves at `atMs`, healed `durationMs` later. */
export const PartitionFault = Type.Object({
  kind: Type.Literal('partition'),
  atMs: Ms,
  durationMs: Ms
}, { additionalProperties: false })

/** The forge answers 5xx (before or after applying a write) and secondary rate limits for a while. */
export const ForgeFault = Type.Object({
  kind: Type.Literal('forge'),
  atMs: Ms,
  durationMs: Ms,
  errorRate: Type.Optional(Rate),
  errorAfterApplyRate: Type.Optional(Rate),
  rateLimitRate: Type.Optional(Rate)
}, { additionalProperties: false })

/** Every request answered with a rate limit (primary or secondary) for a while. */
export const RateLimitFault = Type.Object({
  kind: Type.Literal('rate-limit-burst'),
  atMs: Ms,
  durationMs: Ms,
  limit: Type.Union([Type.Literal('primary'), Type.Literal('secondary')])
}, { additionalProperties: false })

/** List endpoints show the state of `lagMs` ago (set it longer than the claim's settle delay). */
export const ListLagFault = Type.Object({
  kind: Type.Literal('list-lag'),
  lagMs: Ms
}, { additionalProperties: false })

/** One peer's clock is off by `skewMs` (negative: behind). */
export const ClockSkewFault = Type.Object({
  kind: Type.Literal('clock-skew'),
  peer: Type.Integer({ minimum: 0, maximum: 10_000 }),
  skewMs: Type.Integer({ minimum: -86_400_000, maximum: 86_400_000 })
}, { additionalProperties: false })

export const Fault = Type.Union([KillFault, PartitionFault, ForgeFault, RateLimitFault, ListLagFault, ClockSkewFault])
export type Fault = Static<typeof Fault>

/**
 * The agent: `scripted` runs in process and draws each run's fate from the seed (its work
 * time, whether it fails, whether it hangs until the executor's timeout); `cli` runs a real
 * agent CLI against the scripted model server.
 */
export const Agent = Type.Object({
  kind: Type.Union([Type.Literal('scripted'), Type.Literal('cli')]),
  /** Work time of one run: fixed or a [min, max] range (0: instant). */
  workMs: Type.Optional(Range),
  failRate: Type.Optional(Rate),
  hangRate: Type.Optional(Rate),
  /** The CLI's name for `kind: cli`: `claude` (default) or `codex`. */
  cli: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** How long the executor lets one run take before it kills it. */
  timeoutMs: Type.Optional(Ms)
}, { additionalProperties: false })
export type Agent = Static<typeof Agent>

/** Claim timing; absent: the daemon's production settings. */
export const Lease = Type.Object({
  leaseMs: Ms,
  renewEveryMs: Ms,
  settleMs: Ms,
  /** The claim's safety margin (a young claim publishes after 2 × settle + margin). Default min(30 s, lease / 5). */
  marginMs: Type.Optional(Ms)
}, { additionalProperties: false })
export type Lease = Static<typeof Lease>

/** Node timings over the daemon's defaults (presence, warm-up, watcher poll, liveness, …). */
export const Timings = Type.Object({
  presenceMs: Type.Optional(Ms),
  capabilitiesMs: Type.Optional(Ms),
  warmUpMs: Type.Optional(Ms),
  tickMs: Type.Optional(Ms),
  watchIntervalMs: Type.Optional(Ms),
  /** How far back a watcher's poll reads (the daemon's `watch.overlapMs`; default 5 min, for GitHub's list lag). */
  watchOverlapMs: Type.Optional(Ms),
  replicateMs: Type.Optional(Ms),
  forkPollMs: Type.Optional(Ms),
  standbyStepMs: Type.Optional(Ms),
  suspectAfterMs: Type.Optional(Ms),
  deadAfterMs: Type.Optional(Ms)
}, { additionalProperties: false })
export type Timings = Static<typeof Timings>

export const Transport = Type.Union([Type.Literal('memory'), Type.Literal('tcp'), Type.Literal('netns')])
export type Transport = Static<typeof Transport>

export const ScenarioSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9-]*$' }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  peers: Type.Integer({ minimum: 1, maximum: 1000 }),
  issues: Type.Integer({ minimum: 0, maximum: 100_000 }),
  transport: Type.Optional(Transport),
  /**
   * Memory transport only: `plaintext` connections between the in-process peers (gossipsub still
   * signs and verifies every message). A hundred peers on two cores otherwise spend a quarter
   * of their time encrypting bytes that never leave the process. Default `noise`.
   */
  encryption: Type.Optional(Type.Union([Type.Literal('noise'), Type.Literal('plaintext')])),
  agent: Type.Optional(Agent),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295 })),
  /** The run stops here whatever is left (tasks still open are lost). */
  durationMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 86_400_000 })),
  lease: Type.Optional(Lease),
  timings: Type.Optional(Timings),
  /** The forge: how long a secondary rate limit asks clients to wait (GitHub: 60 s). */
  forge: Type.Optional(Type.Object({ secondaryRetryAfterS: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })) }, { additionalProperties: false })),
  /** Agent runs a peer takes at once. */
  slots: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  /**
   * Issues labelled for agents per second, from when every peer is up (work arriving at a formed
   * mesh). Omitted: every issue is labelled from the start.
   */
  issueRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000 })),
  /**
   * Every peer's fork made before the run, as for a fleet that has worked on the repository
   * before (the forge copies forks of one repository one at a time). Default false: forking is
   * part of each peer's first task.
   */
  forkAhead: Type.Optional(Type.Boolean()),
  faults: Type.Optional(Type.Array(Fault, { maxItems: 100 })),
  /** Goals checked at the end (a run that misses one fails, named in the report). */
  goals: Type.Optional(Type.Object({
    claimDecisionP99Ms: Type.Optional(Ms),
    recoveryMs: Type.Optional(Ms),
    requestsPerTask: Type.Optional(Type.Number({ minimum: 0 })),
    wallMs: Type.Optional(Ms)
  }, { additionalProperties: false }))
}, { additionalProperties: false })
export type ScenarioInput = Static<typeof ScenarioSchema>

/** A scenario with every default filled in. */
export interface Scenario {
  name: string
  description: string
  peers: number
  issues: number
  transport: Transport
  encryption: 'noise' | 'plaintext'
  agent: Required<Pick<Agent, 'kind' | 'failRate' | 'hangRate' | 'timeoutMs'>> & { workMs: [number, number], cli?: string }
  seed: number
  durationMs: number
  lease: Lease | undefined
  timings: Timings
  forge: { secondaryRetryAfterS?: number }
  slots: number
  /** Issues labelled per second once every peer is up; `undefined`: all labelled from the start. */
  issueRate: number | undefined
  forkAhead: boolean
  faults: Fault[]
  goals: NonNullable<ScenarioInput['goals']>
}

const validator = Compile(ScenarioSchema)

export const DEFAULTS = {
  transport: 'memory' as Transport,
  seed: 1,
  durationMs: 120_000,
  slots: 1,
  agentTimeoutMs: 30_000
}

/** Checks a parsed value against the schema, then fills the defaults. */
export function validateScenario (value: unknown, file?: string): Scenario {
  if (!validator.Check(value)) {
    const issues = validator.Errors(value).map((e) => ({ path: e.instancePath, message: e.message }))
    throw new ScenarioError(file, issues.length > 0 ? issues : [{ path: '', message: 'does not match the schema' }])
  }
  const v = value
  const work = v.agent?.workMs ?? 0
  const workMs: [number, number] = typeof work === 'number' ? [work, work] : [work[0], work[1]]
  if (workMs[0] > workMs[1]) throw new ScenarioError(file, [{ path: '/agent/workMs', message: 'must be [min, max] with min <= max' }])
  if (v.lease !== undefined && v.lease.leaseMs <= v.lease.settleMs) {
    throw new ScenarioError(file, [{ path: '/lease/leaseMs', message: 'must be longer than settleMs' }])
  }
  if (v.encryption === 'plaintext' && (v.transport ?? DEFAULTS.transport) !== 'memory') {
    throw new ScenarioError(file, [{ path: '/encryption', message: 'plaintext is for the memory transport only: daemons always encrypt' }])
  }
  const faults = v.faults ?? []
  faults.forEach((f, i) => {
    if (f.kind === 'clock-skew' && f.peer >= v.peers) {
      throw new ScenarioError(file, [{ path: `/faults/${i}/peer`, message: `must be below peers (${v.peers})` }])
    }
  })
  return {
    name: v.name,
    description: v.description ?? '',
    peers: v.peers,
    issues: v.issues,
    transport: v.transport ?? DEFAULTS.transport,
    encryption: v.encryption ?? 'noise',
    agent: {
      kind: v.agent?.kind ?? 'scripted',
      workMs,
      failRate: v.agent?.failRate ?? 0,
      hangRate: v.agent?.hangRate ?? 0,
      timeoutMs: v.agent?.timeoutMs ?? DEFAULTS.agentTimeoutMs,
      ...(v.agent?.cli !== undefined ? { cli: v.agent.cli } : v.agent?.kind === 'cli' ? { cli: 'claude' } : {})
    },
    seed: v.seed ?? DEFAULTS.seed,
    durationMs: v.durationMs ?? DEFAULTS.durationMs,
    lease: v.lease,
    timings: v.timings ?? {},
    forge: v.forge ?? {},
    slots: v.slots ?? DEFAULTS.slots,
    issueRate: v.issueRate,
    forkAhead: v.forkAhead ?? false,
    faults,
    goals: v.goals ?? {}
  }
}

/** Parses YAML (JSON is YAML) and validates it. */
export function parseScenario (text: string, file?: string): Scenario {
  let value: unknown
  try {
    value = parseYaml(text)
  } catch (err) {
    throw new ScenarioError(file, [{ path: '', message: `is not YAML or JSON (${(err as Error).message.split('\n')[0] ?? ''})` }])
  }
  return validateScenario(value, file)
}

export async function loadScenario (file: string, options: { signal?: AbortSignal } = {}): Promise<Scenario> {
  const text = await readFile(file, { encoding: 'utf8', signal: options.signal })
  return parseScenario(text, basename(file))
}

/** Overrides from the command line, applied over a scenario (and validated again). */
export interface Overrides {
  peers?: number
  issues?: number
  transport?: Transport
  agent?: Agent['kind']
  /** The CLI for `agent: cli` (`--agent cli:codex`). */
  agentCli?: string
  seed?: number
  durationMs?: number
  /** Short leases for tests. */
  lease?: Lease
  timings?: Timings
  forge?: { secondaryRetryAfterS?: number }
  /** Issues labelled per second once every peer is up (`--issue-rate`). */
  issueRate?: number
  faults?: Fault[]
}

export function applyOverrides (s: Scenario, o: Overrides): Scenario {
  const input: ScenarioInput = {
    name: s.name,
    description: s.description,
    peers: o.peers ?? s.peers,
    issues: o.issues ?? s.issues,
    transport: o.transport ?? s.transport,
    // A transport other than memory from the command line encrypts (plaintext is memory only).
    ...(s.encryption === 'plaintext' && (o.transport ?? s.transport) === 'memory' ? { encryption: 'plaintext' as const } : {}),
    agent: { ...s.agent, kind: o.agent ?? s.agent.kind, ...(o.agentCli !== undefined ? { cli: o.agentCli } : {}) },
    seed: o.seed ?? s.seed,
    durationMs: o.durationMs ?? s.durationMs,
    ...((o.lease ?? s.lease) !== undefined ? { lease: o.lease ?? s.lease } : {}),
    timings: { ...s.timings, ...o.timings },
    forge: { ...s.forge, ...o.forge },
    slots: s.slots,
    ...((o.issueRate ?? s.issueRate) !== undefined ? { issueRate: o.issueRate ?? s.issueRate } : {}),
    forkAhead: s.forkAhead,
    faults: o.faults ?? s.faults,
    goals: s.goals
  }
  return validateScenario(input, 'command line')
}
