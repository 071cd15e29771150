/**
 * The run's forge in a process of its own (`forge-child.ts`), driven over IPC. GitHub is a
 * service apart from the peers; a forge inside the peers' process shared their event loop (its
 * request handling was a seventh of a 100-peer run's busy time) and paid for every git process it
 * spawned in proportion to the whole process's memory (a fork copies the parent's page tables:
 * ~10 ms a process at 300 MB, ~50 ms at 3 GB, on the event loop). Apart, it runs on its own core.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FaultConfig, ForgeSeed } from '@bzzz/forge'
import { ForgeProcessError } from './errors.js'
import type { ForgeFacts } from './events.js'

export interface ForgeProcessInit {
  seed: ForgeSeed
  randomSeed: number
  host?: string
  secondaryRetryAfterS?: number
  listLagMs?: number
  signal?: AbortSignal
}

export interface ClaimPosted { t: number, kind: 'claim_posted', task: string, peer: string }

/** The calls the child answers; each takes its arguments as one value. */
export interface ForgeOps {
  /** The maintainer labels an issue of the run's repository (straight into the forge's state). */
  label: (issue: number) => void
  /** Whether every one of these logins has a fork of the repository whose git objects are ready. */
  forksReady: (logins: string[]) => boolean
  /** Publications per seeded task, read from the forge's records. */
  publications: (seededIssues: number) => ForgeFacts['publications']
  /** Every claim comment ever posted, on the run's clock (`epochMs` is its start). */
  claimsPosted: (epochMs: number) => ClaimPosted[]
  /** Claims and publications on each ineligible issue. */
  ineligible: (issues: number[]) => NonNullable<ForgeFacts['ineligible']>
  setFaults: (faults: FaultConfig) => void
  burstRateLimit: (a: { kind: 'primary' | 'secondary', durationMs: number }) => void
  /** Starts counting the counted requests made by these logins. */
  countFrom: (logins: string[]) => void
  /** Stops counting; the count since `countFrom`. */
  countStop: () => number
  /** The forge process's peak resident memory so far (MB). */
  peakRssMb: () => number
}

export type ForgeRequest = { [K in keyof ForgeOps]: { id: number, op: K, arg: Parameters<ForgeOps[K]>[0] } }[keyof ForgeOps]
export type ForgeReply = { id: number, ok: true, value: unknown } | { id: number, ok: false, error: string }
export type ForgeHello = { ready: { url: string } } | { failed: string }

export type SimForge = { readonly url: string, readonly pid: number, close: () => Promise<void> } & {
  [K in keyof ForgeOps]: (...arg: Parameters<ForgeOps[K]>) => Promise<ReturnType<ForgeOps[K]>>
}

/** The child's entry, built next to this module's package (`src/` and `dist/` are siblings). */
const CHILD = fileURLToPath(new URL('../dist/forge-child.js', import.meta.url))

/** Starts the forge process; resolves once it listens. */
export async function startForgeProcess (init: ForgeProcessInit): Promise<SimForge> {
  init.signal?.throwIfAborted()
  const child: ChildProcess = fork(CHILD, [], {
    execArgv: [],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    ...(init.signal !== undefined ? { signal: init.signal } : {})
  })
  const pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  let exited: Error | undefined
  const gone = (why: string): void => {
    exited ??= new ForgeProcessError(why)
    for (const p of pending.values()) p.reject(exited)
    pending.clear()
  }
  const url = await new Promise<string>((resolve, reject) => {
    const onHello = (m: ForgeHello): void => {
      child.off('exit', onExit)
      if ('ready' in m) resolve(m.ready.url)
      else { child.kill(); reject(new ForgeProcessError(`could not start: ${m.failed}`)) }
    }
    const onExit = (code: number | null, sig: string | null): void => { reject(new ForgeProcessError(`exited before it listened (${sig ?? `code ${code}`})`)) }
    child.once('message', onHello)
    child.once('exit', onExit)
    child.once('error', reject)
    child.send({ seed: init.seed, randomSeed: init.randomSeed, host: init.host, secondaryRetryAfterS: init.secondaryRetryAfterS, listLagMs: init.listLagMs })
  })
  child.on('message', (m: ForgeReply) => {
    const p = pending.get(m.id)
    if (p === undefined) return
    pending.delete(m.id)
    if (m.ok) p.resolve(m.value)
    else p.reject(new ForgeProcessError(m.error))
  })
  child.on('exit', (code, sig) => { gone(`exited (${sig ?? `code ${code}`})`) })
  child.on('error', (err) => { gone(err.message) })
  let next = 0
  const call = async <K extends keyof ForgeOps>(op: K, arg: Parameters<ForgeOps[K]>[0]): Promise<ReturnType<ForgeOps[K]>> => await new Promise((resolve, reject) => {
    if (exited !== undefined) { reject(exited); return }
    const id = next++
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
    child.send({ id, op, arg }, (err) => { if (err != null && pending.delete(id)) reject(new ForgeProcessError(err.message)) })
  })
  const exit = new Promise<void>((resolve) => { if (child.exitCode !== null || child.signalCode !== null) resolve(); else child.once('exit', () => { resolve() }) })
  return {
    url,
    pid: child.pid ?? 0,
    label: async (issue) => await call('label', issue),
    forksReady: async (logins) => await call('forksReady', logins),
    publications: async (n) => await call('publications', n),
    claimsPosted: async (epochMs) => await call('claimsPosted', epochMs),
    ineligible: async (issues) => await call('ineligible', issues),
    setFaults: async (faults) => await call('setFaults', faults),
    burstRateLimit: async (a) => await call('burstRateLimit', a),
    countFrom: async (logins) => await call('countFrom', logins),
    countStop: async () => await call('countStop', undefined),
    peakRssMb: async () => await call('peakRssMb', undefined),
    close: async () => {
      // Disconnecting tells the child to close the forge and exit; a child that hangs is killed.
      if (child.connected) child.disconnect()
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
      await exit
      clearTimeout(timer)
    }
  }
}
