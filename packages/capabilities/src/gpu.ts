import { findExecutable, firstLine, runCommand } from './exec.js'
import type { Absence, GpuInfo, GpuState } from './types.js'

/** The part of systeminformation's `GraphicsControllerData` this package reads. */
export interface GraphicsController {
  vendor?: string
  model?: string
  name?: string
  bus?: string
  busAddress?: string
  pciBus?: string
  vram?: number | null
  vramDynamic?: boolean
  memoryTotal?: number
  memoryUsed?: number
  memoryFree?: number
  utilizationGpu?: number
}

/** Display adapters that cannot run a model: server BMCs, virtual machines' VGA, software renderers. */
const DISPLAY_ONLY = /aspeed|matrox|cirrus|vmware|virtio|qxl|bochs|red hat|qemu|hyper-v|microsoft basic|virtualbox|innotek|llvmpipe|softpipe|svga|silicon motion|xgi/i

function finite (v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined
}

function pct (v: unknown): number | undefined {
  const n = finite(v)
  return n === undefined ? undefined : Math.min(100, n)
}

/**
 * The compute GPUs among systeminformation's graphics controllers. A controller with
 * driver data (utilisation or memory from `nvidia-smi`) always counts; one that looks like a
 * display-only adapter is listed in `ignored` instead.
 */
export function gpusFromControllers (controllers: readonly GraphicsController[]): { gpus: GpuInfo[], ignored: string[] } {
  const gpus: GpuInfo[] = []
  const ignored: string[] = []
  for (const c of controllers) {
    const vendor = (c.vendor ?? '').trim()
    const name = ((c.name ?? '').trim() || (c.model ?? '').trim() || vendor || 'unknown GPU')
    const hasDriverData = finite(c.utilizationGpu) !== undefined || finite(c.memoryTotal) !== undefined
    if (!hasDriverData && DISPLAY_ONLY.test(`${vendor} ${c.model ?? ''} ${c.name ?? ''}`)) {
      ignored.push(name)
      continue
    }
    const gpu: GpuInfo = { name, source: 'systeminformation' }
    if (vendor.length > 0) gpu.vendor = vendor
    const util = pct(c.utilizationGpu); if (util !== undefined) gpu.util = util
    const total = finite(c.memoryTotal) ?? (c.vramDynamic === true ? undefined : finite(c.vram ?? undefined))
    if (total !== undefined && total > 0) gpu.memTotalMb = total
    const used = finite(c.memoryUsed); if (used !== undefined) gpu.memUsedMb = used
    const free = finite(c.memoryFree) ?? (gpu.memTotalMb !== undefined && used !== undefined ? Math.max(0, gpu.memTotalMb - used) : undefined)
    if (free !== undefined) gpu.memFreeMb = free
    const bus = (c.pciBus ?? c.busAddress ?? '').trim(); if (bus.length > 0) gpu.bus = bus
    gpus.push(gpu)
  }
  return { gpus, ignored }
}

/** The query this package asks `nvidia-smi` when systeminformation found no NVIDIA data. */
export const NVIDIA_SMI_ARGS: readonly string[] = Object.freeze([
  '--query-gpu=name,pci.bus_id,memory.total,memory.used,memory.free,utilization.gpu',
  '--format=csv,noheader,nounits'
])

function smiNumber (field: string | undefined): number | undefined {
  if (field === undefined) return undefined
  const t = field.trim()
  if (!/^\d+(\.\d+)?$/.test(t)) return undefined // [N/A], [Not Supported], …
  return Number(t)
}

/** Parses the CSV that `nvidia-smi` prints for `NVIDIA_SMI_ARGS`, one GPU a line. */
export function parseNvidiaSmi (csv: string): GpuInfo[] {
  const gpus: GpuInfo[] = []
  for (const raw of csv.split(/\r?\n/)) {
    const line = raw.trim()
    if (line.length === 0) continue
    const fields = line.split(',')
    if (fields.length < 6) continue
    const tail = fields.slice(-5)
    const name = fields.slice(0, -5).join(',').trim()
    if (name.length === 0) continue
    const gpu: GpuInfo = { name, vendor: 'NVIDIA', source: 'nvidia-smi' }
    const bus = (tail[0] ?? '').trim(); if (bus.length > 0 && !bus.startsWith('[')) gpu.bus = bus
    const total = smiNumber(tail[1]); if (total !== undefined) gpu.memTotalMb = total
    const used = smiNumber(tail[2]); if (used !== undefined) gpu.memUsedMb = used
    const free = smiNumber(tail[3]); if (free !== undefined) gpu.memFreeMb = free
    const util = smiNumber(tail[4]); if (util !== undefined) gpu.util = Math.min(100, util)
    gpus.push(gpu)
  }
  return gpus
}

export interface ProbeGpusOptions {
  /** systeminformation's `graphics` (or a stand-in). */
  graphics: () => Promise<{ controllers: GraphicsController[] }>
  env: NodeJS.ProcessEnv
  timeoutMs: number
  /** The `nvidia-smi` to ask when systeminformation has no NVIDIA data. Default `nvidia-smi` on the PATH. */
  nvidiaSmi?: string
  signal?: AbortSignal
}

class GraphicsTimeout extends Error {}

async function withTimeout<T> (p: Promise<T>, ms: number, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => { reject(new GraphicsTimeout()) }, ms)
        if (signal !== undefined) {
          onAbort = () => { reject(signal.reason) }
          signal.addEventListener('abort', onAbort, { once: true })
        }
      })
    ])
  } finally {
    clearTimeout(timer)
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
  }
}

/**
 * The machine's GPUs. systeminformation first (on Linux it reads `lspci` and `nvidia-smi`);
 * when its NVIDIA data is missing or incomplete (no `lspci` in a container; an idle GPU,
 * whose zeros it drops) and `nvidia-smi` is on the PATH, `nvidia-smi` is asked directly and
 * its GPUs replace the NVIDIA entries.
 */
export async function probeGpus (options: ProbeGpusOptions): Promise<GpuState> {
  options.signal?.throwIfAborted()
  let controllers: GraphicsController[] = []
  let siAbsence: Absence | undefined
  try {
    const data = await withTimeout(options.graphics(), options.timeoutMs, options.signal)
    controllers = Array.isArray(data?.controllers) ? data.controllers : []
  } catch (err) {
    if (options.signal?.aborted === true) throw options.signal.reason
    siAbsence = err instanceof GraphicsTimeout
      ? { reason: 'timed-out', detail: `systeminformation.graphics() gave no answer within ${options.timeoutMs} ms` }
      : { reason: 'failed', detail: `systeminformation.graphics(): ${err instanceof Error ? err.message : String(err)}` }
  }
  const found0 = gpusFromControllers(controllers)
  const ignored = found0.ignored
  let gpus = found0.gpus
  // systeminformation drops nvidia-smi's zeros (an idle GPU has no `utilizationGpu`), and
  // without `lspci` it reports no GPU at all: ask nvidia-smi itself unless every NVIDIA GPU
  // came with its utilisation and memory.
  const nvidia = gpus.filter((g) => /nvidia/i.test(`${g.vendor ?? ''} ${g.name}`))
  const complete = nvidia.length > 0 && nvidia.every((g) => g.util !== undefined && g.memTotalMb !== undefined && g.memUsedMb !== undefined)
  let smiAbsence: Absence | undefined
  if (!complete) {
    const smi = await findExecutable(options.nvidiaSmi ?? 'nvidia-smi', options.env)
    if (smi !== undefined) {
      const run = { env: options.env, timeoutMs: options.timeoutMs, ...(options.signal !== undefined ? { signal: options.signal } : {}) }
      const result = await runCommand(smi, NVIDIA_SMI_ARGS, run)
      if (result.kind === 'exited' && result.code === 0) {
        const found = parseNvidiaSmi(result.stdout)
        if (found.length > 0) gpus = [...gpus.filter((g) => !/nvidia/i.test(`${g.vendor ?? ''} ${g.name}`)), ...found]
      } else if (result.kind === 'timed-out') {
        smiAbsence = { reason: 'timed-out', detail: `nvidia-smi gave no answer within ${options.timeoutMs} ms` }
      } else if (result.kind === 'spawn-failed') {
        smiAbsence = { reason: 'failed', detail: `could not start nvidia-smi: ${result.error}` }
      } else {
        const said = firstLine(result.stderr.length > 0 ? result.stderr : result.stdout)
        smiAbsence = { reason: 'failed', detail: `nvidia-smi: exit code ${result.code ?? result.signal}${said.length > 0 ? `: ${said}` : ''}` }
      }
    }
  }
  if (gpus.length > 0) return { gpus, ignored }
  const absence = smiAbsence ?? siAbsence ?? {
    reason: 'not-installed' as const,
    detail: ignored.length > 0 ? `no compute GPU (display adapters only: ${ignored.join(', ')})` : 'no GPU found'
  }
  return { gpus, ignored, absence }
}
