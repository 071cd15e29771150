import { randomUUID } from 'node:crypto'
import { isMeshName, TOPICS, type Topic } from '@bzzz/protocol'
import { multiaddr } from '@multiformats/multiaddr'
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js'
import { InvalidMeshOptionError } from './errors.js'
import { DEFAULT_LIMITS } from './validation.js'

/** Which transport carries the mesh. */
export type MeshTransport = 'tcp' | 'memory'

/** Tuning of gossipsub exposed by the mesh (see `@libp2p/gossipsub`). */
export interface MeshGossipOptions {
  /** Target mesh degree per topic. Default 6 (tcp), 4 (memory). */
  D?: number
  /** Lower bound of the mesh degree. Default 4 (tcp), 3 (memory). */
  Dlo?: number
  /**
   * Upper bound of the mesh degree. Default 12. A peer refuses a GRAFT from an inbound peer
   * once its mesh holds Dhi peers, and only prunes above Dhi, so a mesh sitting at exactly Dhi
   * turns newcomers away for good: with Dhi 8 in a sparse 100-peer mesh, a late peer whose few
   * links all led to such hubs stayed outside every mesh (about 1 run in 3 of the benchmark).
   */
  Dhi?: number
  /** Peers to gossip IHAVE to each heartbeat. Default 6 (tcp), 3 (memory). */
  Dlazy?: number
  /** Heartbeat interval, ms. Default 1000 (tcp), 700 (memory). */
  heartbeatIntervalMs?: number
  /**
   * How long a peer pruned from a topic mesh waits before grafting again, ms. Default 60000
   * (tcp, gossipsub's own), 5000 (memory): an in-process peer has only the links it was
   * dialled with, and when all of them prune it, it should not wait a minute to try again.
   */
  pruneBackoffMs?: number
  /** Send own messages to every topic peer, not just the mesh. Default true (tcp), false (memory). */
  floodPublish?: boolean
  /**
   * Weight of the IP-colocation score penalty (0 disables it, it must not be positive).
   * Default -5 with loopback addresses exempt (tcp), 0 (memory): on one host every peer
   * shares an address, and more than about 14 peers would otherwise be graylisted.
   */
  ipColocationFactorWeight?: number
  /** Score penalty weight per squared invalid message, per topic. Default -10. */
  invalidMessageWeight?: number
}

export interface ResolvedConfig {
  meshName: string
  transport: MeshTransport
  listen: string[]
  announce: string[]
  bootstrap: string[]
  mdns: { enabled: boolean, intervalMs: number, serviceTag: string }
  dht: { enabled: boolean, protocol: string }
  targetConnections: number
  maxConnections: number
  memoryLatencyMs: number
  maxMessageBytes: number
  maxSkewMs: number
  directTopics: ReadonlySet<Topic>
  backoff: BackoffOptions
  maintainIntervalMs: number
  dialTimeoutMs: number
  gossip: Required<MeshGossipOptions>
  /** Loopback/in-process tuning: no per-host inbound rate limit, IP colocation off for loopback. */
  local: boolean
  encryption: MeshEncryption
}

/**
 * How connections are encrypted: `noise` (always over TCP), or `plaintext`, for the memory
 * transport only: peers in one process exchange bytes that never leave it, and a simulation of
 * a hundred of them would spend most of its time encrypting them. Messages are signed and
 * verified either way (gossipsub's StrictSign).
 */
export type MeshEncryption = 'noise' | 'plaintext'

export interface ConfigInput {
  meshName?: string
  transport?: MeshTransport
  listen?: string[]
  announce?: string[]
  bootstrap?: string[]
  mdns?: boolean | { intervalMs?: number, serviceTag?: string }
  dht?: boolean | { protocol?: string }
  targetConnections?: number
  maxConnections?: number
  /** Memory transport only: delay added to every message, ms, to simulate a network. Default 0. */
  memoryLatencyMs?: number
  maxMessageBytes?: number
  maxSkewMs?: number
  /** Topics whose messages peers may hand to this one with `send`. Default `['task_broadcast']`. */
  directTopics?: readonly Topic[]
  reconnect?: Partial<BackoffOptions>
  maintainIntervalMs?: number
  dialTimeoutMs?: number
  gossip?: MeshGossipOptions
  /** `plaintext` only with the memory transport. Default `noise`. */
  encryption?: MeshEncryption
}

export const DEFAULT_MESH_NAME = 'bzzz'

function positive (option: string, value: number, integer = false): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new InvalidMeshOptionError(option, `must be a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`)
  }
  return value
}

function nonNegative (option: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new InvalidMeshOptionError(option, `must be a number >= 0, got ${String(value)}`)
  return value
}

function directTopicsOf (topics: readonly Topic[] | undefined): ReadonlySet<Topic> {
  const list = topics ?? ['task_broadcast']
  for (const t of list) if (!(TOPICS as readonly string[]).includes(t)) throw new InvalidMeshOptionError('directTopics', `unknown topic ${JSON.stringify(t)}`)
  return new Set(list)
}

const LOOPBACK = /^\/(ip4\/127\.|ip6\/::1\/|memory\/)/

/** Whether every address is loopback (or in-process). */
export function isLocalOnly (addrs: readonly string[]): boolean {
  return addrs.length > 0 && addrs.every((a) => LOOPBACK.test(a))
}

/** Fills in every default and checks every option. Pure but for the random memory address. */
export function resolveConfig (init: ConfigInput): ResolvedConfig {
  const meshName = init.meshName ?? DEFAULT_MESH_NAME
  if (!isMeshName(meshName)) throw new InvalidMeshOptionError('meshName', 'use 1-63 of [a-z0-9._-], starting with a letter or digit')
  const transport = init.transport ?? 'tcp'
  if (transport !== 'tcp' && transport !== 'memory') throw new InvalidMeshOptionError('transport', `must be 'tcp' or 'memory', got ${String(transport)}`)
  const memory = transport === 'memory'
  const listen = init.listen ?? (memory ? [`/memory/${randomUUID()}`] : ['/ip4/0.0.0.0/tcp/0'])
  for (const [option, list] of [['listen', listen], ['announce', init.announce ?? []], ['bootstrap', init.bootstrap ?? []]] as const) {
    for (const addr of list) {
      try {
        multiaddr(addr)
      } catch (err) {
        throw new InvalidMeshOptionError(option, `${JSON.stringify(addr)} is not a multiaddr (${err instanceof Error ? err.message : String(err)})`)
      }
    }
  }
  for (const addr of init.bootstrap ?? []) {
    if (!addr.includes('/p2p/')) throw new InvalidMeshOptionError('bootstrap', `${JSON.stringify(addr)} must end in /p2p/<peer id>`)
  }
  const mdnsInit = typeof init.mdns === 'object' ? init.mdns : {}
  const mdnsEnabled = init.mdns !== undefined && init.mdns !== false
  if (mdnsEnabled && memory) throw new InvalidMeshOptionError('mdns', 'mDNS needs the tcp transport')
  const encryption = init.encryption ?? 'noise'
  if (encryption !== 'noise' && encryption !== 'plaintext') throw new InvalidMeshOptionError('encryption', `must be noise or plaintext, got ${JSON.stringify(encryption)}`)
  if (encryption === 'plaintext' && !memory) throw new InvalidMeshOptionError('encryption', 'plaintext is for the memory transport only: connections over TCP are always encrypted')
  const dhtInit = typeof init.dht === 'object' ? init.dht : {}
  const targetConnections = positive('targetConnections', init.targetConnections ?? (memory ? 6 : 8), true)
  // High enough that a bootstrap hub of a 100+ peer mesh is not pruned into a redial loop.
  const maxConnections = positive('maxConnections', init.maxConnections ?? Math.max(300, targetConnections * 4), true)
  if (maxConnections < targetConnections) throw new InvalidMeshOptionError('maxConnections', 'must be at least targetConnections')
  const backoff = { ...DEFAULT_BACKOFF, ...init.reconnect }
  positive('reconnect.initialDelayMs', backoff.initialDelayMs)
  positive('reconnect.maxDelayMs', backoff.maxDelayMs)
  if (!(backoff.factor >= 1)) throw new InvalidMeshOptionError('reconnect.factor', 'must be at least 1')
  if (!(backoff.jitter >= 0 && backoff.jitter < 1)) throw new InvalidMeshOptionError('reconnect.jitter', 'must be in [0, 1)')
  const g = init.gossip ?? {}
  const gossip: Required<MeshGossipOptions> = {
    D: g.D ?? (memory ? 4 : 6),
    Dlo: g.Dlo ?? (memory ? 3 : 4),
    Dhi: g.Dhi ?? 12,
    Dlazy: g.Dlazy ?? (memory ? 3 : 6),
    heartbeatIntervalMs: g.heartbeatIntervalMs ?? (memory ? 700 : 1000),
    pruneBackoffMs: g.pruneBackoffMs ?? (memory ? 5_000 : 60_000),
    floodPublish: g.floodPublish ?? !memory,
    ipColocationFactorWeight: g.ipColocationFactorWeight ?? (memory ? 0 : -5),
    invalidMessageWeight: g.invalidMessageWeight ?? -10
  }
  for (const key of ['D', 'Dlo', 'Dhi'] as const) positive(`gossip.${key}`, gossip[key], true)
  if (!Number.isInteger(gossip.Dlazy) || gossip.Dlazy < 0) throw new InvalidMeshOptionError('gossip.Dlazy', `must be an integer >= 0, got ${String(gossip.Dlazy)}`)
  if (!(gossip.Dlo <= gossip.D && gossip.D <= gossip.Dhi)) throw new InvalidMeshOptionError('gossip', 'need Dlo <= D <= Dhi')
  if (gossip.ipColocationFactorWeight > 0) throw new InvalidMeshOptionError('gossip.ipColocationFactorWeight', 'must not be positive')
  if (gossip.invalidMessageWeight > 0) throw new InvalidMeshOptionError('gossip.invalidMessageWeight', 'must not be positive')
  positive('gossip.heartbeatIntervalMs', gossip.heartbeatIntervalMs)
  positive('gossip.pruneBackoffMs', gossip.pruneBackoffMs)
  return {
    meshName,
    transport,
    listen,
    announce: init.announce ?? [],
    bootstrap: init.bootstrap ?? [],
    mdns: { enabled: mdnsEnabled, intervalMs: positive('mdns.intervalMs', mdnsInit.intervalMs ?? 10_000), serviceTag: mdnsInit.serviceTag ?? `_bzzz-${meshName}._udp.local` },
    dht: { enabled: init.dht === undefined ? !memory : init.dht !== false, protocol: dhtInit.protocol ?? `/bzzz/${meshName}/kad/1.0.0` },
    targetConnections,
    maxConnections,
    memoryLatencyMs: nonNegative('memoryLatencyMs', init.memoryLatencyMs ?? 0),
    maxMessageBytes: positive('maxMessageBytes', init.maxMessageBytes ?? DEFAULT_LIMITS.maxBytes, true),
    maxSkewMs: positive('maxSkewMs', init.maxSkewMs ?? DEFAULT_LIMITS.maxSkewMs),
    directTopics: directTopicsOf(init.directTopics),
    backoff,
    maintainIntervalMs: positive('maintainIntervalMs', init.maintainIntervalMs ?? 1000),
    dialTimeoutMs: positive('dialTimeoutMs', init.dialTimeoutMs ?? 10_000),
    gossip,
    local: memory || isLocalOnly(listen),
    encryption
  }
}
