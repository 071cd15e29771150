import type { PeerStatus } from '@bzzz/protocol'
import type { CapabilitySnapshot, GpuInfo } from './types.js'

export type LoadMetric = 'cpu' | 'mem' | 'gpu' | 'gpu-mem'

/** Something that matters to the peers changed. */
export type CapabilityChange =
  | { kind: 'models', added: string[], removed: string[] }
  | { kind: 'loaded-models', added: string[], removed: string[] }
  /** CLIs that became usable or stopped being so, and those whose version changed. */
  | { kind: 'clis', added: string[], removed: string[], upgraded: string[] }
  | { kind: 'gpus', added: string[], removed: string[] }
  | { kind: 'status', from: PeerStatus, to: PeerStatus }
  | { kind: 'slots', from: { free?: number, total?: number }, to: { free?: number, total?: number } }
  /** A load figure (percent) crossed a threshold or moved by at least the delta. */
  | { kind: 'load', metric: LoadMetric, from: number, to: number }

/** When a load figure counts as changed. All in percentage points. */
export interface LoadChangeOptions {
  /** A move of at least this much since the last report. Default 20. */
  delta?: number
  /** Levels whose crossing is reported. Default `[50, 75, 90]`. */
  thresholds?: number[]
  /** A level counts as crossed only this far past it, so a value wobbling on it is quiet. Default 5. */
  hysteresis?: number
}

export const DEFAULT_LOAD_CHANGE: Readonly<Required<LoadChangeOptions>> = Object.freeze({
  delta: 20,
  thresholds: Object.freeze([50, 75, 90]) as number[],
  hysteresis: 5
})

/**
 * Whether `to` differs from `from` (the value last reported) enough to report: it moved by
 * at least `delta`, or it went from below a threshold to at least `hysteresis` above it, or
 * from at or above a threshold to more than `hysteresis` below it.
 */
export function loadChanged (from: number, to: number, options: LoadChangeOptions = {}): boolean {
  const delta = options.delta ?? DEFAULT_LOAD_CHANGE.delta
  const h = options.hysteresis ?? DEFAULT_LOAD_CHANGE.hysteresis
  if (Math.abs(to - from) >= delta) return true
  for (const t of options.thresholds ?? DEFAULT_LOAD_CHANGE.thresholds) {
    if (from < t && to >= t + h) return true
    if (from >= t && to < t - h) return true
  }
  return false
}

function setDiff (before: Iterable<string>, after: Iterable<string>): { added: string[], removed: string[] } {
  const b = new Set(before)
  const a = new Set(after)
  return { added: [...a].filter((x) => !b.has(x)).sort(), removed: [...b].filter((x) => !a.has(x)).sort() }
}

function gpuKeys (gpus: readonly GpuInfo[]): string[] {
  const counts = new Map<string, number>()
  return gpus.map((g) => {
    const base = g.bus !== undefined ? `${g.name} (${g.bus})` : g.name
    const n = (counts.get(base) ?? 0) + 1
    counts.set(base, n)
    return n === 1 ? base : `${base} #${n}`
  })
}

function maxUtil (s: CapabilitySnapshot): number | undefined {
  const u = s.gpus.gpus.map((g) => g.util).filter((x): x is number => x !== undefined)
  return u.length > 0 ? Math.max(...u) : undefined
}

function gpuMemPercent (s: CapabilitySnapshot): number | undefined {
  let total = 0
  let used = 0
  for (const g of s.gpus.gpus) {
    const u = g.memUsedMb ?? (g.memTotalMb !== undefined && g.memFreeMb !== undefined ? g.memTotalMb - g.memFreeMb : undefined)
    if (g.memTotalMb === undefined || u === undefined) continue
    total += g.memTotalMb
    used += u
  }
  return total > 0 ? (used / total) * 100 : undefined
}

/**
 * What changed between the snapshot last reported and the current one: installed and
 * loaded models, usable CLIs and their versions, the set of GPUs, status, slots, and load
 * figures that moved enough (`loadChanged`). Empty when nothing that matters changed.
 */
export function diffSnapshots (before: CapabilitySnapshot, after: CapabilitySnapshot, options: LoadChangeOptions = {}): CapabilityChange[] {
  const changes: CapabilityChange[] = []
  const modelNames = (s: CapabilitySnapshot): string[] => s.ollama.available ? s.ollama.models.map((m) => m.name) : []
  const loadedNames = (s: CapabilitySnapshot): string[] => s.ollama.available ? s.ollama.loaded.map((m) => m.name) : []
  const models = setDiff(modelNames(before), modelNames(after))
  if (models.added.length + models.removed.length > 0) changes.push({ kind: 'models', ...models })
  const loaded = setDiff(loadedNames(before), loadedNames(after))
  if (loaded.added.length + loaded.removed.length > 0) changes.push({ kind: 'loaded-models', ...loaded })

  const usable = (s: CapabilitySnapshot): Map<string, string | undefined> =>
    new Map(s.clis.flatMap((c) => c.available ? [[c.name, c.version] as const] : []))
  const cb = usable(before)
  const ca = usable(after)
  const clis = setDiff(cb.keys(), ca.keys())
  const upgraded = [...ca.keys()].filter((n) => cb.has(n) && cb.get(n) !== ca.get(n)).sort()
  if (clis.added.length + clis.removed.length + upgraded.length > 0) changes.push({ kind: 'clis', ...clis, upgraded })

  const gpus = setDiff(gpuKeys(before.gpus.gpus), gpuKeys(after.gpus.gpus))
  if (gpus.added.length + gpus.removed.length > 0) changes.push({ kind: 'gpus', ...gpus })

  if (before.status !== after.status) changes.push({ kind: 'status', from: before.status, to: after.status })
  if (before.slotsFree !== after.slotsFree || before.slotsTotal !== after.slotsTotal) {
    const side = (s: CapabilitySnapshot): { free?: number, total?: number } => ({
      ...(s.slotsFree !== undefined ? { free: s.slotsFree } : {}),
      ...(s.slotsTotal !== undefined ? { total: s.slotsTotal } : {})
    })
    changes.push({ kind: 'slots', from: side(before), to: side(after) })
  }

  const metrics: Array<[LoadMetric, number | undefined, number | undefined]> = [
    ['cpu', before.load.cpu, after.load.cpu],
    ['mem', before.load.mem, after.load.mem],
    ['gpu', maxUtil(before), maxUtil(after)],
    ['gpu-mem', gpuMemPercent(before), gpuMemPercent(after)]
  ]
  for (const [metric, from, to] of metrics) {
    if (from !== undefined && to !== undefined && loadChanged(from, to, options)) {
      changes.push({ kind: 'load', metric, from, to })
    }
  }
  return changes
}
