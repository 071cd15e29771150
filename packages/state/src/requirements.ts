import { satisfies } from '@bzzz/capabilities'
import type { CapabilitiesMessage, Requirements } from '@bzzz/protocol'

/** Decides whether a peer with `capabilities` may take a task that needs `requirements`. */
export type SatisfiesFn = (capabilities: CapabilitiesMessage, requirements: Requirements) => boolean

/**
 * The default matcher: `@bzzz/capabilities`' `satisfies`, the one matching rule of the mesh
 * (models as Ollama names them, `claude-cli` as `claude`, a GPU when asked, and enough free
 * memory, where an unknown amount never meets a minimum), reduced to a yes or no.
 */
export function satisfiesRequirements (capabilities: CapabilitiesMessage, requirements: Requirements): boolean {
  return satisfies(capabilities, requirements).ok
}
