// Test helpers (not exported by the package).
import type { PresencePingMessage } from '@bzzz/protocol'
import type { Mesh } from './mesh.js'

export const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** Polls `check` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}

export function ping (mesh: Mesh, seq: number, overrides: Partial<PresencePingMessage> = {}): PresencePingMessage {
  return {
    type: 'presence_ping',
    node_id: mesh.peerId.toString(),
    status: 'idle',
    load: { cpu: 12.5 },
    active_tasks: [],
    timestamp: new Date().toISOString(),
    seq,
    ...overrides
  }
}

/** The gossipsub mesh peers of a mesh for a pubsub topic string. */
export function meshPeers (mesh: Mesh, topic: string): string[] {
  return (mesh.libp2p.services.pubsub as unknown as { getMeshPeers: (t: string) => string[] }).getMeshPeers(topic)
}
