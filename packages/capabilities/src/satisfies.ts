import type { CapabilitiesMessage, Requirements } from '@bzzz/protocol'
import type { CapabilitySnapshot } from './types.js'

/** What `satisfies` reads: a peer's received `capabilities` message, or this detector's snapshot. */
export type CapabilitySet = CapabilitiesMessage | CapabilitySnapshot

/** One requirement that does not hold. A `freeMb` of `undefined` means the peer did not say. */
export type Missing =
  | { kind: 'model', name: string }
  | { kind: 'cli', name: string }
  | { kind: 'gpu' }
  | { kind: 'mem', requiredMb: number, freeMb?: number }
  | { kind: 'gpu-mem', requiredMb: number, freeMb?: number }

export type SatisfiesResult = { ok: true } | { ok: false, missing: Missing[] }

/**
 * The key a model name is compared by, following Ollama's naming: case-insensitive, the
 * default registry and namespace dropped (`registry.ollama.ai/library/llama3` is `llama3`),
 * and the tag `latest` when none is given (`llama3` is `llama3:latest`, not `llama3:8b`).
 */
export function modelKey (name: string): string {
  let n = name.trim().toLowerCase()
  for (const prefix of ['registry.ollama.ai/library/', 'registry.ollama.ai/', 'library/']) {
    if (n.startsWith(prefix)) { n = n.slice(prefix.length); break }
  }
  const last = n.slice(n.lastIndexOf('/') + 1)
  return last.includes(':') ? n : `${n}:latest`
}

/**
 * The key a CLI name is compared by: case-insensitive, and without a trailing `-cli`, so
 * that the design's `claude-cli` and `gemini-cli` name the `claude` and `gemini` CLIs.
 */
export function cliKey (name: string): string {
  const n = name.trim().toLowerCase()
  return n.endsWith('-cli') && n.length > 4 ? n.slice(0, -4) : n
}

interface View {
  models: Set<string>
  clis: Set<string>
  /** GPUs and the free memory of each, in MiB (`undefined`: not said). */
  gpuFree: Array<number | undefined>
  hasGpu: boolean
  memFreeMb?: number
}

function isMessage (c: CapabilitySet): c is CapabilitiesMessage {
  return (c as Partial<CapabilitiesMessage>).type === 'capabilities'
}

function freeOf (total: number | undefined, used: number | undefined, free?: number): number | undefined {
  if (free !== undefined) return free
  return total !== undefined && used !== undefined ? Math.max(0, total - used) : undefined
}

function view (c: CapabilitySet): View {
  if (isMessage(c)) {
    const gpus = c.gpus ?? []
    const v: View = {
      models: new Set([...c.models, ...(c.loaded_models ?? [])].map(modelKey)),
      clis: new Set(c.installed.map(cliKey)),
      gpuFree: gpus.map((g) => freeOf(g.mem_total_mb, g.mem_used_mb)),
      // A seed-only peer sends no `gpus`; a non-zero utilisation still says it has a GPU.
      hasGpu: gpus.length > 0 || (c.gpus === undefined && c.gpu > 0)
    }
    if (c.mem_free_mb !== undefined) v.memFreeMb = c.mem_free_mb
    return v
  }
  const models = c.ollama.available ? [...c.ollama.models, ...c.ollama.loaded].map((m) => m.name) : []
  return {
    models: new Set(models.map(modelKey)),
    clis: new Set(c.clis.filter((cli) => cli.available).map((cli) => cliKey(cli.name))),
    gpuFree: c.gpus.gpus.map((g) => freeOf(g.memTotalMb, g.memUsedMb, g.memFreeMb)),
    hasGpu: c.gpus.gpus.length > 0,
    memFreeMb: c.load.memFreeMb
  }
}

/**
 * Whether a capability set meets every requirement given: each model installed or loaded,
 * each CLI installed, a GPU when `gpu` is true (`gpu: false` asks nothing), enough free
 * memory, and one GPU with enough free memory. An amount the peer did not state does not
 * meet a minimum. Works alike on a received `CapabilitiesMessage` and on a `CapabilitySnapshot`.
 */
export function satisfies (capabilities: CapabilitySet, requirements: Requirements): SatisfiesResult {
  const v = view(capabilities)
  const missing: Missing[] = []
  for (const name of requirements.models ?? []) {
    if (!v.models.has(modelKey(name))) missing.push({ kind: 'model', name })
  }
  for (const name of requirements.clis ?? []) {
    if (!v.clis.has(cliKey(name))) missing.push({ kind: 'cli', name })
  }
  if (requirements.gpu === true && !v.hasGpu) missing.push({ kind: 'gpu' })
  const minMem = requirements.min_mem_free_mb
  if (minMem !== undefined && !(v.memFreeMb !== undefined && v.memFreeMb >= minMem)) {
    missing.push(v.memFreeMb === undefined ? { kind: 'mem', requiredMb: minMem } : { kind: 'mem', requiredMb: minMem, freeMb: v.memFreeMb })
  }
  const minGpu = requirements.min_gpu_mem_free_mb
  if (minGpu !== undefined) {
    const known = v.gpuFree.filter((f): f is number => f !== undefined)
    const best = known.length > 0 ? Math.max(...known) : undefined
    if (!(best !== undefined && best >= minGpu)) {
      missing.push(best === undefined ? { kind: 'gpu-mem', requiredMb: minGpu } : { kind: 'gpu-mem', requiredMb: minGpu, freeMb: best })
    }
  }
  return missing.length === 0 ? { ok: true } : { ok: false, missing }
}
