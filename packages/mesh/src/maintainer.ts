import { peerIdFromString } from '@libp2p/peer-id'
import type { Libp2p, Logger, PeerId, PeerInfo } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { BackoffTable, planDials, type BackoffOptions } from './backoff.js'

export interface MaintainerInit {
  libp2p: Libp2p
  /** Bootstrap multiaddrs, each ending in `/p2p/<peer id>`. */
  bootstrap: readonly string[]
  targetConnections: number
  backoff: BackoffOptions
  intervalMs: number
  dialTimeoutMs: number
  log: Logger
  /** Bound on remembered (discovered) peers. */
  maxKnownPeers?: number
}

/**
 * Keeps the peer connected: dials what discovery finds (libp2p 3 no longer does), keeps
 * `targetConnections` connections, and redials bootstrap peers with exponential backoff for
 * as long as they are away. All decisions are made by the pure `planDials` and `BackoffTable`.
 */
export class ConnectionMaintainer {
  readonly #libp2p: Libp2p
  readonly #bootstrap = new Map<string, Multiaddr[]>()
  readonly #known = new Set<string>()
  readonly #dialling = new Set<string>()
  readonly #backoff: BackoffTable
  readonly #init: MaintainerInit
  readonly #maxKnown: number
  #controller: AbortController | undefined
  #timer: NodeJS.Timeout | undefined
  #soon: NodeJS.Timeout | undefined

  constructor (init: MaintainerInit) {
    this.#init = init
    this.#libp2p = init.libp2p
    this.#backoff = new BackoffTable(init.backoff)
    this.#maxKnown = init.maxKnownPeers ?? 1000
    for (const addr of init.bootstrap) {
      const ma = multiaddr(addr)
      const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value
      if (id === undefined) continue
      const list = this.#bootstrap.get(id) ?? []
      list.push(ma)
      this.#bootstrap.set(id, list)
    }
  }

  start (): void {
    if (this.#controller !== undefined) return
    this.#controller = new AbortController()
    const signal = this.#controller.signal
    this.#libp2p.addEventListener('peer:discovery', this.#onDiscovery, { signal })
    this.#libp2p.addEventListener('peer:connect', this.#onConnect, { signal })
    this.#libp2p.addEventListener('peer:disconnect', this.#onDisconnect, { signal })
    this.#timer = setInterval(() => { this.tick() }, this.#init.intervalMs)
    this.#timer.unref()
    this.tick()
  }

  stop (): void {
    this.#controller?.abort()
    this.#controller = undefined
    clearInterval(this.#timer)
    clearTimeout(this.#soon)
    this.#timer = undefined
    this.#soon = undefined
  }

  /** How many peers the backoff table holds (for tests: it must stay bounded). */
  get backoffEntries (): number {
    return this.#backoff.size
  }

  /** Peer IDs of the bootstrap list. */
  get bootstrapPeers (): string[] {
    return [...this.#bootstrap.keys()]
  }

  readonly #onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    this.#remember(evt.detail.id.toString())
    this.#tickSoon()
  }

  readonly #onConnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString()
    this.#remember(peer)
    this.#backoff.succeeded(peer)
  }

  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString()
    // Wait a little before the first redial: the peer is most likely restarting.
    if (this.#bootstrap.has(peer)) this.#backoff.failed(peer, Date.now())
    this.#tickSoon()
  }

  #remember (peer: string): void {
    if (peer === this.#libp2p.peerId.toString()) return
    this.#known.delete(peer)
    this.#known.add(peer)
    if (this.#known.size > this.#maxKnown) {
      const oldest = this.#known.values().next().value
      if (oldest !== undefined) this.#known.delete(oldest)
    }
  }

  #tickSoon (): void {
    if (this.#soon !== undefined || this.#controller === undefined) return
    this.#soon = setTimeout(() => {
      this.#soon = undefined
      this.tick()
    }, 50)
    this.#soon.unref()
  }

  /** One round: dial what `planDials` says. */
  tick (): void {
    if (this.#controller === undefined) return
    const now = Date.now()
    // Forget the backoff of peers no longer known (evicted past maxKnownPeers): else the table
    // gains an entry for every peer that ever failed a dial, for as long as the process runs.
    this.#backoff.prune((peer) => this.#bootstrap.has(peer) || this.#known.has(peer))
    const connected = new Set(this.#libp2p.getPeers().map((p) => p.toString()))
    const plan = planDials({
      connected,
      dialling: this.#dialling,
      bootstrap: this.bootstrapPeers,
      known: [...this.#known],
      target: this.#init.targetConnections,
      isDue: (peer) => this.#backoff.isDue(peer, now),
      self: this.#libp2p.peerId.toString()
    })
    for (const peer of plan) this.#dial(peer)
  }

  #dial (peer: string): void {
    const controller = this.#controller
    if (controller === undefined) return
    this.#dialling.add(peer)
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(this.#init.dialTimeoutMs)])
    const addrs = this.#bootstrap.get(peer)
    const dial = async (): Promise<void> => {
      if (addrs !== undefined) {
        await this.#libp2p.dial(addrs, { signal })
      } else {
        await this.#libp2p.dial(peerIdFromString(peer), { signal })
      }
    }
    dial().then(() => {
      this.#backoff.succeeded(peer)
    }, (err: unknown) => {
      if (controller.signal.aborted) return
      const delay = this.#backoff.failed(peer, Date.now())
      this.#init.log('dial %s failed, next try in %d ms: %s', peer, delay, err instanceof Error ? err.message : String(err))
      // A non-bootstrap peer that keeps failing is forgotten after a few tries.
      if (!this.#bootstrap.has(peer) && this.#backoff.attempts(peer) >= 5) {
        this.#known.delete(peer)
        this.#backoff.succeeded(peer)
      }
    }).finally(() => {
      this.#dialling.delete(peer)
    })
  }
}
