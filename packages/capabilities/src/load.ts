import os from 'node:os'
import * as si from 'systeminformation'
import type { LoadSample } from './types.js'

/** Busy and total CPU time summed over every core, in ms, as `os.cpus()` counts them. */
export interface CpuTimes {
  busy: number
  total: number
}

/** The shape of `os.cpus()` this package reads. */
export interface CpuInfoLike {
  times: { user: number, nice: number, sys: number, idle: number, irq: number }
}

export function cpuTimes (cpus: readonly CpuInfoLike[]): CpuTimes {
  let busy = 0
  let total = 0
  for (const { times } of cpus) {
    const b = times.user + times.nice + times.sys + times.irq
    busy += b
    total += b + times.idle
  }
  return { busy, total }
}

/**
 * CPU use in percent between two readings: busy time over total time. 0 when no time passed
 * (or the counters went backwards, as after a CPU went offline); always within 0..100.
 */
export function cpuPercent (prev: CpuTimes, next: CpuTimes): number {
  const total = next.total - prev.total
  const busy = next.busy - prev.busy
  if (!(total > 0) || !Number.isFinite(total) || !Number.isFinite(busy)) return 0
  return Math.min(100, Math.max(0, (busy / total) * 100))
}

/** Total and available memory in bytes. */
export interface MemReading {
  total: number
  available: number
}

/**
 * Memory without spawning a process: on Linux systeminformation's `mem()` (it reads
 * `/proc/meminfo`; `available` is `MemAvailable`), elsewhere `os.totalmem()`/`os.freemem()`
 * (systeminformation spawns `vm_stat` or PowerShell there).
 */
export async function readMemory (): Promise<MemReading> {
  if (process.platform === 'linux') {
    const m = await si.mem()
    return { total: m.total, available: m.available }
  }
  return { total: os.totalmem(), available: os.freemem() }
}

export interface LoadSamplerInit {
  /** Default `os.cpus` (libuv reads `/proc/stat`; no process is spawned). */
  cpus?: () => readonly CpuInfoLike[]
  memory?: () => Promise<MemReading>
  now?: () => number
}

const MiB = 1024 * 1024

/** Samples CPU (as the change since the previous sample) and memory. */
export class LoadSampler {
  private readonly cpus: () => readonly CpuInfoLike[]
  private readonly memory: () => Promise<MemReading>
  private readonly now: () => number
  private prev: CpuTimes

  constructor (init: LoadSamplerInit = {}) {
    this.cpus = init.cpus ?? os.cpus
    this.memory = init.memory ?? readMemory
    this.now = init.now ?? Date.now
    this.prev = cpuTimes(this.cpus())
  }

  async sample (): Promise<LoadSample> {
    const mem = await this.memory()
    const next = cpuTimes(this.cpus())
    const cpu = cpuPercent(this.prev, next)
    // Keep the old reading when no time has passed, so that the next sample spans a real interval.
    if (next.total > this.prev.total) this.prev = next
    const total = Math.max(0, mem.total)
    const available = Math.min(total, Math.max(0, mem.available))
    return {
      cpu: round1(cpu),
      mem: total > 0 ? round1(((total - available) / total) * 100) : 0,
      memTotalMb: Math.round(total / MiB),
      memFreeMb: Math.round(available / MiB),
      at: this.now()
    }
  }
}

export function round1 (n: number): number {
  return Math.round(n * 10) / 10
}
