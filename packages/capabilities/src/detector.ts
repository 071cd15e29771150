import os from 'node:os'
import type { CapabilitiesMessage, PeerStatus, PresencePingMessage } from '@bzzz/protocol'
import { TypedEventEmitter, type TypedEventTarget } from 'main-event'
import * as si from 'systeminformation'
import { diffSnapshots, type CapabilityChange, type LoadChangeOptions } from './change.js'
import { DEFAULT_CLIS, probeClis, type CliSpec } from './clis.js'
import { DetectorStoppedError, InvalidArgumentError, InvalidOptionsError } from './errors.js'
import { probeGpus, type GraphicsController } from './gpu.js'
import { LoadSampler, type CpuInfoLike, type MemReading } from './load.js'
import { toCapabilitiesMessage, toPresencePing, type ToPresenceOptions } from './message.js'
import { ollamaBaseUrl, probeOllama } from './ollama.js'
import type { CapabilitySnapshot } from './types.js'

/** The slow probes, each refreshed on its own. */
export type ProbeKind = 'clis' | 'models' | 'gpus'
export const PROBE_KINDS: readonly ProbeKind[] = Object.freeze(['clis', 'models', 'gpus'])

export interface AbortOptions {
  signal?: AbortSignal
}

export interface RefreshOptions extends AbortOptions {
  /** Which slow probes to run. Default all; `[]` samples the load only. */
  probes?: readonly ProbeKind[]
}

export interface CapabilityChangeDetail {
  changes: CapabilityChange[]
  snapshot: CapabilitySnapshot
}

export interface CapabilityDetectorEvents {
  /** Something that matters changed (see `CapabilityChange`): re-broadcast the capabilities. */
  change: CustomEvent<CapabilityChangeDetail>
  /** Nothing was reported for `keepAliveMs`: broadcast the capabilities again anyway. */
  keepalive: CustomEvent<{ snapshot: CapabilitySnapshot }>
}

/** Stand-ins for the machine, for tests and embedding. Each defaults to the real thing. */
export interface CapabilityDetectorComponents {
  /** systeminformation's `graphics()`. */
  graphics?: () => Promise<{ controllers: GraphicsController[] }>
  fetch?: (input: string, init: { signal: AbortSignal, headers?: Record<string, string> }) => Promise<Response>
  cpus?: () => readonly CpuInfoLike[]
  memory?: () => Promise<MemReading>
  now?: () => number
}

export interface CapabilityDetectorInit {
  /** This peer's node id, as sent in `node_id`. */
  nodeId: string
  /** A human name for the machine, sent as `name`. */
  name?: string
  /** Ollama's address, written as `OLLAMA_HOST` is. Default `env.OLLAMA_HOST`, else `http://127.0.0.1:11434`. */
  ollamaHost?: string
  /** CLIs to look for: names, or specs with another executable or version arguments. Default `DEFAULT_CLIS`. */
  clis?: ReadonlyArray<string | CliSpec>
  /** Limit for one CLI's `--version`. Default 5000 ms. */
  cliTimeoutMs?: number
  /** Limit for each Ollama request or `ollama` command. Default 3000 ms. */
  ollamaTimeoutMs?: number
  /** Limit for the GPU probe. Default 15000 ms. */
  gpuTimeoutMs?: number
  /** How often CPU and memory are sampled (no process is spawned). Default 5000 ms. */
  loadIntervalMs?: number
  /** How often the slow probes (CLIs, models, GPUs) run again. Default 60000 ms. */
  probeIntervalMs?: number
  /** A `keepalive` event after this long without a report. Default 0: none. */
  keepAliveMs?: number
  /** Environment for finding and running CLIs (its `PATH`). Default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Initial status. Default `idle`. */
  status?: PeerStatus
  /** Task slots. Default unset (not sent). */
  slotsTotal?: number
  /** Free task slots. Default `slotsTotal`. */
  slotsFree?: number
  /** When a load figure counts as changed. */
  loadChange?: LoadChangeOptions
}

/** Also a typed event target: `addEventListener('change' | 'keepalive', …)`. */
export interface CapabilityDetector extends TypedEventTarget<CapabilityDetectorEvents> {
  /** Runs every probe once (so `snapshot()` is complete when it resolves), then keeps them current. */
  start: (options?: AbortOptions) => Promise<void>
  /** Stops the timers and cuts off running probes. The detector cannot be started again. */
  stop: (options?: AbortOptions) => Promise<void>
  /** Runs slow probes now (all, or `probes`), samples the load, and reports any change. A probe already running is joined. */
  refresh: (options?: RefreshOptions) => Promise<CapabilitySnapshot>
  /** Everything known now, with absences and their reasons. A copy. */
  snapshot: () => CapabilitySnapshot
  /** The `capabilities` message to broadcast; it decodes with @bzzz/protocol. */
  toMessage: (now?: number) => CapabilitiesMessage
  /** A `presence_ping` carrying status, load and free slots. */
  toPresencePing: (options?: ToPresenceOptions) => PresencePingMessage
  setStatus: (status: PeerStatus) => void
  /** Sets the free and (optionally) total task slots; `free` may not exceed the total. */
  setSlots: (free: number, total?: number) => void
  readonly running: boolean
}

const STATUSES: readonly PeerStatus[] = ['idle', 'busy', 'draining']

function positive (name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new InvalidOptionsError(name, `must be a ${allowZero ? 'non-negative' : 'positive'} number of ms`)
  }
  return value
}

function isSlotCount (n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 1024
}

function normaliseClis (clis: ReadonlyArray<string | CliSpec>): CliSpec[] {
  const seen = new Set<string>()
  return clis.map((c, i) => {
    const spec: CliSpec = typeof c === 'string' ? { name: c } : { ...c }
    if (typeof spec.name !== 'string' || spec.name.length === 0 || spec.name.length > 256) {
      throw new InvalidOptionsError(`clis[${i}].name`, 'must be a name of 1 to 256 characters')
    }
    if (seen.has(spec.name)) throw new InvalidOptionsError(`clis[${i}].name`, `${spec.name} is listed twice`)
    seen.add(spec.name)
    return spec
  })
}

async function raceSignal<T> (p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return await p
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_resolve, reject) => {
        onAbort = () => { reject(signal.reason) }
        signal.addEventListener('abort', onAbort, { once: true })
      })
    ])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}

class DefaultCapabilityDetector extends TypedEventEmitter<CapabilityDetectorEvents> implements CapabilityDetector {
  private readonly clis: CliSpec[]
  private readonly env: NodeJS.ProcessEnv
  private readonly baseUrl: string
  private readonly cliTimeoutMs: number
  private readonly ollamaTimeoutMs: number
  private readonly gpuTimeoutMs: number
  private readonly loadIntervalMs: number
  private readonly probeIntervalMs: number
  private readonly keepAliveMs: number
  private readonly loadChange: LoadChangeOptions
  private readonly components: CapabilityDetectorComponents
  private readonly now: () => number
  private readonly sampler: LoadSampler
  private readonly controller = new AbortController()
  private state: CapabilitySnapshot
  /** What peers last heard (at the last `change` or `keepalive`, or at start). */
  private reported: CapabilitySnapshot | undefined
  private readonly inflight = new Map<ProbeKind | 'load', Promise<void>>()
  private timers: NodeJS.Timeout[] = []
  private keepAliveTimer: NodeJS.Timeout | undefined
  private started = false
  private starting: Promise<void> | undefined
  private stopped = false

  constructor (init: CapabilityDetectorInit, components: CapabilityDetectorComponents) {
    super()
    if (typeof init.nodeId !== 'string' || init.nodeId.length === 0 || init.nodeId.length > 128) {
      throw new InvalidOptionsError('nodeId', 'must be a string of 1 to 128 characters')
    }
    if (init.name !== undefined && (typeof init.name !== 'string' || init.name.length > 256)) {
      throw new InvalidOptionsError('name', 'must be a string of at most 256 characters')
    }
    this.env = init.env ?? process.env
    try {
      this.baseUrl = ollamaBaseUrl(init.ollamaHost ?? this.env.OLLAMA_HOST)
    } catch (err) {
      throw new InvalidOptionsError('ollamaHost', err instanceof Error ? err.message : 'not a host')
    }
    this.clis = normaliseClis(init.clis ?? DEFAULT_CLIS)
    this.cliTimeoutMs = positive('cliTimeoutMs', init.cliTimeoutMs, 5000)
    this.ollamaTimeoutMs = positive('ollamaTimeoutMs', init.ollamaTimeoutMs, 3000)
    this.gpuTimeoutMs = positive('gpuTimeoutMs', init.gpuTimeoutMs, 15000)
    this.loadIntervalMs = positive('loadIntervalMs', init.loadIntervalMs, 5000)
    this.probeIntervalMs = positive('probeIntervalMs', init.probeIntervalMs, 60000)
    this.keepAliveMs = positive('keepAliveMs', init.keepAliveMs, 0, true)
    this.loadChange = init.loadChange ?? {}
    const status = init.status ?? 'idle'
    if (!STATUSES.includes(status)) throw new InvalidOptionsError('status', 'must be idle, busy or draining')
    if (init.slotsTotal !== undefined && !isSlotCount(init.slotsTotal)) throw new InvalidOptionsError('slotsTotal', 'must be an integer from 0 to 1024')
    const slotsFree = init.slotsFree ?? init.slotsTotal
    if (slotsFree !== undefined && (!isSlotCount(slotsFree) || (init.slotsTotal !== undefined && slotsFree > init.slotsTotal))) {
      throw new InvalidOptionsError('slotsFree', 'must be an integer from 0 to slotsTotal')
    }
    this.components = components
    this.now = components.now ?? Date.now
    this.sampler = new LoadSampler({
      ...(components.cpus !== undefined ? { cpus: components.cpus } : {}),
      ...(components.memory !== undefined ? { memory: components.memory } : {}),
      now: this.now
    })
    const notProbed = { reason: 'not-probed' as const, detail: 'not probed yet' }
    this.state = {
      nodeId: init.nodeId,
      ...(init.name !== undefined ? { name: init.name } : {}),
      status,
      ...(slotsFree !== undefined ? { slotsFree } : {}),
      ...(init.slotsTotal !== undefined ? { slotsTotal: init.slotsTotal } : {}),
      load: {
        cpu: 0,
        mem: 0,
        memTotalMb: Math.round(os.totalmem() / 1048576),
        memFreeMb: Math.round(os.freemem() / 1048576),
        at: this.now()
      },
      gpus: { gpus: [], ignored: [], absence: notProbed },
      ollama: { available: false, host: this.baseUrl, absence: notProbed, api: notProbed, cli: notProbed },
      clis: this.clis.map((c) => ({ name: c.name, available: false, absence: notProbed })),
      probedAt: 0
    }
  }

  get running (): boolean {
    return this.started && !this.stopped
  }

  async start (options: AbortOptions = {}): Promise<void> {
    // A start already under way: wait for it (the snapshot is complete only when it ends);
    // if it failed (its caller aborted it), start afresh.
    while (this.starting !== undefined) await raceSignal(this.starting, options.signal)
    if (this.stopped) throw new DetectorStoppedError()
    if (this.started) return
    this.started = true
    const first = this.refresh(options)
    this.starting = first.then(() => {}, () => {}) // only says when it ended; `started` says how
    try {
      await first
    } catch (err) {
      this.started = false
      throw err
    } finally {
      this.starting = undefined
    }
    if (this.stopped) return
    this.reported = structuredClone(this.state)
    const every = (ms: number, fn: () => void): void => {
      const t = setInterval(fn, ms)
      t.unref()
      this.timers.push(t)
    }
    every(this.loadIntervalMs, () => { void this.refresh({ probes: [] }).catch(() => {}) })
    every(this.probeIntervalMs, () => { void this.refresh().catch(() => {}) })
    this.armKeepAlive()
  }

  async stop (options: AbortOptions = {}): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const t of this.timers) clearInterval(t)
    this.timers = []
    clearTimeout(this.keepAliveTimer)
    this.controller.abort(new DetectorStoppedError())
    // Stopped already; the signal only bounds the wait for probes that ignore the abort.
    await raceSignal(Promise.allSettled([...this.inflight.values()]), options.signal)
  }

  async refresh (options: RefreshOptions = {}): Promise<CapabilitySnapshot> {
    if (this.stopped) throw new DetectorStoppedError()
    options.signal?.throwIfAborted()
    const kinds = options.probes ?? PROBE_KINDS
    const work = [...new Set(kinds)].map(async (k) => { await this.run(k) })
    await raceSignal(Promise.all(work), options.signal)
    await raceSignal(this.run('load'), options.signal)
    if (kinds.length > 0) this.state.probedAt = this.now()
    this.check()
    return this.snapshot()
  }

  /** Runs one probe, or joins the run already under way, and stores its answer. */
  private async run (kind: ProbeKind | 'load'): Promise<void> {
    const running = this.inflight.get(kind)
    if (running !== undefined) { await running; return }
    // A refresh that was under way when the detector stopped starts nothing new (stop no longer waits for it).
    if (this.stopped) throw new DetectorStoppedError()
    const p = this.probe(kind).finally(() => { this.inflight.delete(kind) })
    this.inflight.set(kind, p)
    await p
  }

  private async probe (kind: ProbeKind | 'load'): Promise<void> {
    const signal = this.controller.signal
    switch (kind) {
      case 'load': {
        const load = await this.sampler.sample()
        signal.throwIfAborted()
        this.state.load = load
        break
      }
      case 'clis': {
        const clis = await probeClis(this.clis, { env: this.env, timeoutMs: this.cliTimeoutMs, signal })
        signal.throwIfAborted()
        this.state.clis = clis
        break
      }
      case 'models': {
        const command = this.clis.find((c) => c.name === 'ollama')?.command
        const ollama = await probeOllama({
          baseUrl: this.baseUrl,
          env: this.env,
          timeoutMs: this.ollamaTimeoutMs,
          signal,
          ...(this.components.fetch !== undefined ? { fetch: this.components.fetch } : {}),
          ...(command !== undefined ? { command } : {})
        })
        signal.throwIfAborted()
        this.state.ollama = ollama
        break
      }
      case 'gpus': {
        const gpus = await probeGpus({
          graphics: this.components.graphics ?? (async () => await si.graphics()),
          env: this.env,
          timeoutMs: this.gpuTimeoutMs,
          signal
        })
        signal.throwIfAborted()
        this.state.gpus = gpus
        break
      }
    }
  }

  /** Reports what changed since peers last heard, if anything did. */
  private check (): void {
    if (this.reported === undefined || this.stopped) return
    const changes = diffSnapshots(this.reported, this.state, this.loadChange)
    if (changes.length === 0) return
    this.reported = structuredClone(this.state)
    this.armKeepAlive()
    this.safeDispatchEvent('change', { detail: { changes, snapshot: this.snapshot() } })
  }

  private armKeepAlive (): void {
    clearTimeout(this.keepAliveTimer)
    if (this.keepAliveMs === 0 || this.stopped) return
    this.keepAliveTimer = setTimeout(() => {
      if (this.stopped) return
      this.reported = structuredClone(this.state)
      this.armKeepAlive()
      this.safeDispatchEvent('keepalive', { detail: { snapshot: this.snapshot() } })
    }, this.keepAliveMs)
    this.keepAliveTimer.unref()
  }

  snapshot (): CapabilitySnapshot {
    return structuredClone(this.state)
  }

  toMessage (now?: number): CapabilitiesMessage {
    return toCapabilitiesMessage(this.state, { now: now ?? this.now() })
  }

  toPresencePing (options: ToPresenceOptions = {}): PresencePingMessage {
    return toPresencePing(this.state, { ...options, now: options.now ?? this.now() })
  }

  setStatus (status: PeerStatus): void {
    if (!STATUSES.includes(status)) throw new InvalidArgumentError('status', status, 'must be idle, busy or draining')
    this.state.status = status
    this.check()
  }

  setSlots (free: number, total?: number): void {
    const t = total ?? this.state.slotsTotal
    if (t !== undefined && !isSlotCount(t)) throw new InvalidArgumentError('total', total, 'must be an integer from 0 to 1024')
    if (!isSlotCount(free)) throw new InvalidArgumentError('free', free, 'must be an integer from 0 to 1024')
    if (t !== undefined && free > t) throw new InvalidArgumentError('free', free, `must not exceed the total (${t})`)
    this.state.slotsFree = free
    if (t !== undefined) this.state.slotsTotal = t
    this.check()
  }
}

/**
 * Creates a detector of what this machine can do. Nothing is probed until `start` or
 * `refresh`; before that the snapshot says `not-probed`.
 */
export function createCapabilityDetector (init: CapabilityDetectorInit, components: CapabilityDetectorComponents = {}): CapabilityDetector {
  return new DefaultCapabilityDetector(init, components)
}
