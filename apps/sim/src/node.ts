/**
 * The one seam between the simulation and the daemon: the sim asks a `NodeFactory` for each
 * peer and drives it through `SimNode`. The factory for real runs wraps apps/peer's
 * `createNode` (the daemon's own assembly, see peer-node.ts); the sim never wires packages
 * itself. Everything the node tells the sim comes back through `spec.report`.
 */
import type { AgentAdapter } from '@bzzz/executor'
import type { NodeInit } from '@bzzz/peer'
import type { LogCheck, SimEvent } from './events.js'
import type { Lease, Timings, Transport } from './scenario.js'

/** An event as a node reports it; the sim stamps the time when it arrives. */
export type NodeEvent = SimEvent extends infer E ? E extends { t: number } ? Omit<E, 't'> : never : never

export interface NodeSpec {
  /** `peer-3`: the name in the report. */
  name: string
  index: number
  /** The forge's REST and git base URL, and this peer's login and token there. */
  forgeUrl: string
  login: string
  token: string
  /** Every peer's login: the only claim markers that count (the operator lists the fleet's accounts). */
  peerLogins: string[]
  /** Repositories to watch (`owner/name`). */
  repos: string[]
  transport: Transport
  /** Memory transport: `plaintext` connections (see the scenario's `encryption`). */
  encryption?: 'noise' | 'plaintext'
  /** Multiaddrs of peers already up, to join the mesh through. */
  bootstrap: string[]
  /** Claim timing; undefined: the daemon's production defaults. */
  lease: Lease | undefined
  timings: Timings
  slots: number
  /** The agent every task runs (scripted, or a CLI adapter against the scripted model server). */
  agent: AgentAdapter
  /** For a CLI agent: createNode's `agentOptions` (PATH, HOME, the model endpoint, limits). */
  agentOptions?: NonNullable<NodeInit['agentOptions']>
  agentTimeoutMs: number
  /** This peer's clock (skewed by the clock-skew fault). */
  now: () => number
  /** A private directory for the node's data (keys, SQLite, workspaces). */
  dataDir: string
  /** The node's events, for the metrics. */
  report: (event: NodeEvent) => void
  /** Every line the node logs, for the token scan and the run's log files. */
  logLine: (line: string) => void
}

export interface SimNode {
  readonly name: string
  readonly peerId: string
  /** Addresses other peers can dial. */
  multiaddrs: () => string[]
  /** Drains and stops (SIGTERM for a daemon process). */
  stop: (options: { signal: AbortSignal }) => Promise<void>
  /** Stops at once: no drain, no claim released, no goodbye (kill -9 for a daemon process). */
  kill: () => Promise<void>
  /** Drops every connection to these peers and refuses new ones until `heal()`. */
  partition: (peerIds: readonly string[]) => Promise<void>
  heal: () => Promise<void>
  /** Connected peers now (for progress). */
  connections: () => number
  /** Counted GitHub requests of this node's client, in all and per task scope (`task:owner/repo#N`). */
  requestCounts: () => { total: number, scopes: Record<string, number> }
  /**
   * Replicates with the others once more (unless `replicate` is false), then verifies its own and
   * every replicated log.
   */
  verifyLogs: (options: { signal: AbortSignal, replicate?: boolean }) => Promise<LogCheck>
}

export type NodeFactory = (spec: NodeSpec, options: { signal: AbortSignal }) => Promise<SimNode>

/**
 * A network a transport makes for one run (`netns`: namespaces, a bridge, a route): made before
 * the forge starts (which listens on `forgeHost`), removed once everything stopped.
 */
export interface SimNetwork {
  forgeHost: string
  close: () => void
}

/** A transport: its node factory, and the network it makes for a run, if any (runScenario's `network`). */
export interface SimTransport {
  nodeFactory: NodeFactory
  network?: (peers: number) => SimNetwork
}
