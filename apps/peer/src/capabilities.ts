// Where the node's `capabilities` and `presence_ping` messages come from: the real detector
// (@bzzz/capabilities), or a fixed set for tests and the simulation.
import { createCapabilityDetector, type CapabilityDetectorInit } from '@bzzz/capabilities'
import { formatTimestamp, type CapabilitiesMessage, type PeerStatus, type PresencePingMessage } from '@bzzz/protocol'

export interface CapabilitySource {
  start: (options?: { signal?: AbortSignal }) => Promise<void>
  stop: () => Promise<void>
  toMessage: (now?: number) => CapabilitiesMessage
  toPresencePing: (options: { activeTasks: string[], seq: number, now: number }) => PresencePingMessage
  setStatus: (status: PeerStatus) => void
  setSlots: (free: number, total: number) => void
  /** Calls `listener` whenever what the machine can do changed. */
  onChange: (listener: () => void) => void
}

/** Builds the source once the node knows its id. */
export type CapabilitySourceFactory = (nodeId: string) => CapabilitySource

/** The machine's real capabilities, probed by @bzzz/capabilities. */
export function detectedCapabilities (init: Omit<CapabilityDetectorInit, 'nodeId'> = {}): CapabilitySourceFactory {
  return (nodeId) => {
    const detector = createCapabilityDetector({ ...init, nodeId })
    return {
      start: async (options) => { await detector.start(options) },
      stop: async () => { await detector.stop() },
      toMessage: (now) => detector.toMessage(now),
      toPresencePing: (options) => detector.toPresencePing(options),
      setStatus: (status) => { detector.setStatus(status) },
      setSlots: (free, total) => { detector.setSlots(free, total) },
      onChange: (listener) => { detector.addEventListener('change', () => { listener() }) }
    }
  }
}

export interface StaticCapabilitiesInit {
  /** Agent CLIs offered, e.g. `['claude']`. */
  installed?: string[]
  /** Ollama models offered. */
  models?: string[]
  name?: string
  cpu?: number
}

/** A fixed set of capabilities (no probing): tests, the simulation, a node that says what it has. */
export function staticCapabilities (init: StaticCapabilitiesInit = {}): CapabilitySourceFactory {
  return (nodeId) => {
    let status: PeerStatus = 'idle'
    let slots = { free: 1, total: 1 }
    const listeners: Array<() => void> = []
    const changed = (): void => { for (const l of listeners) l() }
    return {
      start: async () => {},
      stop: async () => {},
      toMessage: (now) => ({
        type: 'capabilities',
        v: 1,
        node_id: nodeId,
        cpu: init.cpu ?? 10,
        gpu: 0,
        models: init.models ?? [],
        installed: init.installed ?? [],
        status,
        timestamp: formatTimestamp(now ?? Date.now()),
        slots_free: slots.free,
        slots_total: slots.total,
        ...(init.name !== undefined ? { name: init.name } : {})
      }),
      toPresencePing: ({ activeTasks, seq, now }) => ({
        type: 'presence_ping',
        v: 1,
        node_id: nodeId,
        status,
        load: { cpu: init.cpu ?? 10 },
        active_tasks: activeTasks,
        timestamp: formatTimestamp(now),
        slots_free: slots.free,
        seq
      }),
      setStatus: (s) => { if (s !== status) { status = s; changed() } },
      setSlots: (free, total) => {
        if (free !== slots.free || total !== slots.total) { slots = { free, total }; changed() }
      },
      onChange: (listener) => { listeners.push(listener) }
    }
  }
}
