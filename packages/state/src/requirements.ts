import type { CapabilitiesMessage, Requirements } from '@bzzz/protocol'

/** Decides whether a peer with `capabilities` may take a task that needs `requirements`. */
export type SatisfiesFn = (capabilities: CapabilitiesMessage, requirements: Requirements) => boolean

/**
 * The default matcher (the app may pass `@bzzz/capabilities`' instead): every model is
 * installed or loaded, every CLI installed, a GPU present when asked, and enough free
 * memory (host, and on the GPU with the most free memory) when the message says how much.
 * An unknown amount of free memory does not satisfy a minimum.
 */
export function satisfiesRequirements (capabilities: CapabilitiesMessage, requirements: Requirements): boolean {
  const models = new Set([...capabilities.models, ...(capabilities.loaded_models ?? [])])
  if (requirements.models?.some((m) => !models.has(m)) === true) return false
  const clis = new Set(capabilities.installed)
  if (requirements.clis?.some((c) => !clis.has(c)) === true) return false
  const gpus = capabilities.gpus ?? []
  if (requirements.gpu === true && gpus.length === 0) return false
  if (requirements.min_mem_free_mb !== undefined) {
    if (capabilities.mem_free_mb === undefined || capabilities.mem_free_mb < requirements.min_mem_free_mb) return false
  }
  if (requirements.min_gpu_mem_free_mb !== undefined) {
    const best = Math.max(-1, ...gpus.map((g) => (g.mem_total_mb !== undefined ? g.mem_total_mb - (g.mem_used_mb ?? 0) : -1)))
    if (best < requirements.min_gpu_mem_free_mb) return false
  }
  return true
}
