/**
 * Costs of measuring the machine, as JSON lines:
 *   npx -y pnpm@12 bench capabilities   (from the repository root)
 * - load-sample: one cheap load sample (CPU from os.cpus(), memory from /proc/meminfo).
 * - probe-*: each slow probe on this machine, wall time.
 * - refresh: a full refresh, and the longest event-loop stall during it.
 * - to-message / satisfies: the pure functions, per call.
 */
import os from 'node:os'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { encode } from '@bzzz/protocol'
import * as si from 'systeminformation'
import { DEFAULT_CLIS, probeClis } from './clis.js'
import { createCapabilityDetector } from './detector.js'
import { probeGpus } from './gpu.js'
import { LoadSampler } from './load.js'
import { toCapabilitiesMessage } from './message.js'
import { probeOllama } from './ollama.js'
import { satisfies } from './satisfies.js'

function line (o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...o, node: process.version, cpus: os.cpus().length })}\n`)
}

function quantile (sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
}

async function timeIt (n: number, fn: () => Promise<unknown> | unknown): Promise<{ mean_us: number, p50_us: number, p99_us: number }> {
  const t: number[] = []
  for (let i = 0; i < n; i++) {
    const s = performance.now()
    await fn()
    t.push((performance.now() - s) * 1000)
  }
  t.sort((a, b) => a - b)
  const mean = t.reduce((a, b) => a + b, 0) / t.length
  return { mean_us: Math.round(mean * 10) / 10, p50_us: Math.round(quantile(t, 0.5) * 10) / 10, p99_us: Math.round(quantile(t, 0.99) * 10) / 10 }
}

async function wall (fn: () => Promise<unknown>): Promise<number> {
  const s = performance.now()
  await fn()
  return Math.round((performance.now() - s) * 10) / 10
}

const sampler = new LoadSampler()
line({ bench: 'load-sample', n: 2000, ...(await timeIt(2000, async () => await sampler.sample())) })

const env = process.env
line({ bench: 'probe-clis', clis: DEFAULT_CLIS.length, wall_ms: await wall(async () => await probeClis(DEFAULT_CLIS.map((name) => ({ name })), { env, timeoutMs: 5000 })) })
line({ bench: 'probe-ollama', host: '127.0.0.1:11434', wall_ms: await wall(async () => await probeOllama({ baseUrl: 'http://127.0.0.1:11434', env, timeoutMs: 3000 })) })
let gpus = 0
line({
  bench: 'probe-gpus',
  wall_ms: await wall(async () => { gpus = (await probeGpus({ graphics: async () => await si.graphics(), env, timeoutMs: 15000 })).gpus.length }),
  gpus
})

const detector = createCapabilityDetector({ nodeId: 'bench' })
const delay = monitorEventLoopDelay({ resolution: 1 })
delay.enable()
const refreshMs = await wall(async () => await detector.refresh())
delay.disable()
line({ bench: 'refresh', wall_ms: refreshMs, max_event_loop_stall_ms: Math.round(delay.max / 1e5) / 10 })

const snap = detector.snapshot()
line({ bench: 'to-message+encode', n: 20000, ...(await timeIt(20000, () => encode(toCapabilitiesMessage(snap)))) })
const msg = detector.toMessage()
const req = { models: ['llama3'], clis: ['claude'], gpu: true, min_mem_free_mb: 1000, min_gpu_mem_free_mb: 8000 }
line({ bench: 'satisfies', n: 100000, ...(await timeIt(100000, () => satisfies(msg, req))) })
await detector.stop()
