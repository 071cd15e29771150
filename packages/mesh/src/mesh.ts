import { noise } from '@chainsafe/libp2p-noise'
import { plaintext } from '@libp2p/plaintext'
import { yamux } from '@chainsafe/libp2p-yamux'
import {
  SchemaError,
  TOPICS,
  encode,
  topicName,
  validate,
  topicOfType,
  type Message,
  type Topic,
  type TopicMessageMap
} from '@bzzz/protocol'
import { bootstrap } from '@libp2p/bootstrap'
import { generateKeyPair } from '@libp2p/crypto/keys'
import {
  TopicValidatorResult,
  gossipsub,
  type GossipSub,
  type Message as PubsubMessage
} from '@libp2p/gossipsub'
import { createTopicScoreParams } from '@libp2p/gossipsub/score'
import { identify, type Identify } from '@libp2p/identify'
import { TypedEventEmitter, type AbortOptions, type ConnectionGater, type Libp2p, type PeerId, type PrivateKey } from '@libp2p/interface'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { logger } from '@libp2p/logger'
import { mdns } from '@libp2p/mdns'
import { memory } from '@libp2p/memory'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { ping, type Ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import { resolveConfig, type ConfigInput, type ResolvedConfig } from './config.js'
import { MeshAbortError, MeshNotStartedError, NodeIdMismatchError, InvalidMeshOptionError } from './errors.js'
import { loadOrCreateIdentity } from './identity.js'
import { ConnectionMaintainer } from './maintainer.js'
import { authorOf, validateMeshMessage, type InvalidReason } from './validation.js'
import { directHandler, directProtocol, sendDirect, type DirectAnswer } from './direct.js'

/** The libp2p services every mesh runs. `dht` is absent when the DHT is turned off. */
export interface MeshServices extends Record<string, unknown> {
  pubsub: GossipSub
  identify: Identify
  ping: Ping
  dht?: KadDHT
}

export interface MeshInit extends ConfigInput {
  /**
   * The peer's identity. Give either a key, or `identityPath` (a key file, created with mode
   * 0600 when missing); with neither, a fresh key is made and forgotten on exit.
   */
  privateKey?: PrivateKey
  /** Path of the identity key file (protobuf-encoded Ed25519 private key, mode 0600). */
  identityPath?: string
  /**
   * Pre-shared network key (`@libp2p/pnet` swarm key, as `generateNetworkKey()` makes): only
   * peers holding the same key can connect at all.
   */
  networkKey?: Uint8Array | string
  /** Peer IDs allowed to connect (this peer is always allowed). Unset: anyone (with the key). */
  allowlist?: Iterable<string | PeerId>
  /**
   * Asked on every dial and every incoming connection: `true` refuses that peer, for as long
   * as it says so (a live partition, as apps/sim makes). Connections already open stay open.
   */
  denyPeer?: (peerId: string) => boolean
  /** The local clock, for the skew check. Default `Date.now`. */
  now?: () => number
}

/** Where a delivered message came from. */
export interface MessageMeta<T extends Topic = Topic> {
  topic: T
  /** The peer that signed (wrote) the message. */
  from: PeerId
  /** The neighbour that handed it to us. */
  propagationSource: PeerId
  /** Handed to this peer with `send` by its author, not gossiped. */
  direct?: true
}

export type MessageHandler<T extends Topic> = (message: TopicMessageMap[T], meta: MessageMeta<T>) => void | Promise<void>

export interface MeshMessageEvent<T extends Topic = Topic> extends MessageMeta<T> {
  message: TopicMessageMap[T]
}

export interface InvalidMessageEvent {
  /** The pubsub topic string it arrived on. */
  topic: string
  /** Its signer, when it was signed. */
  from: PeerId | undefined
  /** The neighbour that sent it, whose score it counts against. */
  propagationSource: PeerId
  reason: InvalidReason
  error: Error
}

export interface MeshEvents {
  /** A peer connected (its first connection). */
  'peer:join': CustomEvent<PeerId>
  /** A peer's last connection closed. */
  'peer:leave': CustomEvent<PeerId>
  /** A valid message arrived on a subscribed topic. */
  message: CustomEvent<MeshMessageEvent>
  /** A message was rejected: not delivered, not forwarded, and counted against its sender. */
  'message:invalid': CustomEvent<InvalidMessageEvent>
}

export interface PublishResult {
  /** How many neighbours the message was sent to. */
  recipients: number
}

/** A peer of the Bzzz mesh. Create with `createMesh`, then `start()`. */
export interface Mesh extends TypedEventEmitter<MeshEvents> {
  readonly meshName: string
  /** This peer's ID; its string form is the `node_id` of every message it writes. */
  readonly peerId: PeerId
  /** This peer's Ed25519 private key (for signing other records with the same identity). */
  readonly privateKey: PrivateKey
  /** The libp2p node, for stream protocols (`handle`, `unhandle`, `dialProtocol`). */
  readonly libp2p: Libp2p<MeshServices>
  start(options?: AbortOptions): Promise<void>
  stop(options?: AbortOptions): Promise<void>
  isStarted(): boolean
  /** Validates, encodes, signs and publishes a message. Its `node_id`/`from_node` must be `peerId`. */
  publish<T extends Topic>(topic: T, message: TopicMessageMap[T], options?: AbortOptions): Promise<PublishResult>
  /**
   * Hands a message straight to one peer (dialling it if need be: its addresses must be known,
   * see `addAddresses`), outside gossip; nothing forwards it. The peer checks it as a gossip
   * message, with this peer as its signer, and gives it to its handlers of `topic`; resolves
   * once they are done. Refused: `DirectRefusedError`.
   */
  send<T extends Topic>(peer: string | PeerId, topic: T, message: TopicMessageMap[T], options?: AbortOptions): Promise<void>
  /** Calls `handler` with each valid message of `topic` from other peers (gossiped or sent). Returns the unsubscribe function. */
  subscribe<T extends Topic>(topic: T, handler: MessageHandler<T>): () => void
  /** Remembers where a peer can be dialled (as it announced itself); invalid addresses are skipped. */
  addAddresses(peer: string | PeerId, addrs: Iterable<string>, options?: AbortOptions): Promise<void>
  /** Connected peers. */
  getPeers(): PeerId[]
  /** The addresses other peers can dial, each ending in `/p2p/<peer id>`. */
  getMultiaddrs(): Multiaddr[]
  /** Connects to a peer by address (or by ID when its addresses are known). Returns its ID. */
  dial(target: string | Multiaddr | PeerId, options?: AbortOptions): Promise<PeerId>
  /** The gossipsub score of a peer (negative after invalid messages). */
  score(peer: string | PeerId): number
}

/** The pubsub topic names of a mesh, and back. */
function topicMaps (meshName: string): { names: Map<Topic, string>, topics: Map<string, Topic> } {
  const names = new Map<Topic, string>(TOPICS.map((t) => [t, topicName(meshName, t)]))
  const topics = new Map<string, Topic>([...names].map(([t, n]) => [n, t]))
  return { names, topics }
}

function gater (allowlist: Iterable<string | PeerId> | undefined, self: PeerId, denyPeer?: (peerId: string) => boolean): ConnectionGater {
  if (allowlist === undefined && denyPeer === undefined) return {}
  const allowed = allowlist === undefined ? undefined : new Set<string>([...allowlist].map((p) => p.toString()))
  allowed?.add(self.toString())
  const deny = (peer: PeerId): boolean => (allowed !== undefined && !allowed.has(peer.toString())) || denyPeer?.(peer.toString()) === true
  return {
    denyDialPeer: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny,
    denyInboundUpgradedConnection: deny,
    denyOutboundUpgradedConnection: deny
  }
}

/** Throws `MeshAbortError` (with the signal's reason as its cause) when `signal` is aborted. */
function throwIfAborted (signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted === true) throw new MeshAbortError(operation, { cause: signal.reason })
}

async function race<T> (promise: Promise<T>, signal: AbortSignal | undefined, operation: string): Promise<T> {
  if (signal === undefined) return await promise
  throwIfAborted(signal, operation)
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(new MeshAbortError(operation, { cause: signal.reason })) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}

function fastMessageId (msg: { from?: Uint8Array, seqno?: Uint8Array, signature?: Uint8Array }): string {
  const parts = [msg.from, msg.seqno, msg.signature].map((b) => b === undefined ? '' : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64'))
  return parts.join('.')
}

/** The libp2p configuration of a mesh. */
function libp2pOptions (cfg: ResolvedConfig, init: MeshInit, privateKey: PrivateKey, peerId: PeerId): Libp2pOptions<MeshServices> {
  const memoryMode = cfg.transport === 'memory'
  const topicScore = createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0.01,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 100,
    firstMessageDeliveriesWeight: 1,
    firstMessageDeliveriesDecay: 0.5,
    firstMessageDeliveriesCap: 10,
    // Our topics are quiet: a mesh peer that delivers little is not misbehaving.
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: cfg.gossip.invalidMessageWeight,
    // Forgiven slowly: about 70 s half-life.
    invalidMessageDeliveriesDecay: 0.99
  })
  const services: Libp2pOptions<MeshServices>['services'] = {
    identify: identify({ maxObservedAddresses: memoryMode ? 1 : 10 }),
    ping: ping(),
    pubsub: gossipsub({
      globalSignaturePolicy: 'StrictSign',
      allowPublishToZeroTopicPeers: true,
      fallbackToFloodsub: false,
      emitSelf: false,
      canRelayMessage: false,
      D: cfg.gossip.D,
      Dlo: cfg.gossip.Dlo,
      Dhi: cfg.gossip.Dhi,
      Dlazy: cfg.gossip.Dlazy,
      Dout: Math.min(2, Math.floor(cfg.gossip.Dlo / 2)),
      heartbeatInterval: cfg.gossip.heartbeatIntervalMs,
      pruneBackoff: cfg.gossip.pruneBackoffMs,
      // Recognise a duplicate before verifying its signature again (Ed25519 signatures are
      // deterministic, so signer + sequence number + signature names one message). The cache
      // is only filled after a message's signature has been verified.
      fastMsgIdFn: fastMessageId,
      floodPublish: cfg.gossip.floodPublish,
      // Room for an oversized message to reach the validator and be scored, not just dropped.
      maxInboundDataLength: Math.max(1024 * 1024, cfg.maxMessageBytes * 4),
      allowedTopics: new Set(TOPICS.map((t) => topicName(cfg.meshName, t))),
      scoreParams: {
        topics: Object.fromEntries(TOPICS.map((t) => [topicName(cfg.meshName, t), topicScore])),
        IPColocationFactorWeight: cfg.gossip.ipColocationFactorWeight,
        IPColocationFactorWhitelist: new Set(['127.0.0.1', '::1'])
      }
    })
  }
  if (cfg.dht.enabled) {
    services.dht = kadDHT({
      protocol: cfg.dht.protocol,
      clientMode: false,
      // The default mapper strips private addresses: on a LAN they are the only ones there are.
      peerInfoMapper: passthroughMapper,
      logPrefix: 'bzzz:mesh:dht',
      datastorePrefix: `/bzzz/${cfg.meshName}/dht`,
      ...(memoryMode ? { kBucketSize: 10, pingOldContactConcurrency: 2, pingNewContactConcurrency: 2 } : {})
    })
  }
  const peerDiscovery: NonNullable<Libp2pOptions['peerDiscovery']> = []
  if (cfg.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: cfg.bootstrap, timeout: 100 }))
  if (cfg.mdns.enabled) peerDiscovery.push(mdns({ interval: cfg.mdns.intervalMs, serviceTag: cfg.mdns.serviceTag }))

  let connectionProtector: Libp2pOptions['connectionProtector']
  if (init.networkKey !== undefined) {
    const psk = typeof init.networkKey === 'string' ? new TextEncoder().encode(init.networkKey) : init.networkKey
    const protector = preSharedKey({ psk })
    connectionProtector = protector
    try {
      // Decodes the key now, so that a bad one is an option error here and not a plain Error
      // out of createLibp2p. The message never echoes the key.
      protector()
    } catch {
      throw new InvalidMeshOptionError('networkKey', 'not a swarm key (`/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits, one a line; see generateNetworkKey())')
    }
  }

  return {
    privateKey,
    start: false,
    addresses: { listen: cfg.listen, announce: cfg.announce },
    transports: memoryMode ? [memory({ latency: cfg.memoryLatencyMs })] : [tcp()],
    connectionEncrypters: [cfg.encryption === 'plaintext' ? plaintext() : noise()],
    streamMuxers: [yamux()],
    ...(connectionProtector === undefined ? {} : { connectionProtector }),
    connectionGater: gater(init.allowlist, peerId, init.denyPeer),
    connectionManager: {
      maxConnections: cfg.maxConnections,
      dialTimeout: cfg.dialTimeoutMs,
      // On one host every peer shares an address: the per-host inbound rate limit would
      // refuse a busy hub, so local meshes lift it.
      ...(cfg.local ? { inboundConnectionThreshold: 100_000, maxIncomingPendingConnections: 256 } : {})
    },
    connectionMonitor: { pingInterval: cfg.local ? 30_000 : 10_000 },
    peerDiscovery,
    services
  }
}

class MeshImpl extends TypedEventEmitter<MeshEvents> implements Mesh {
  readonly meshName: string
  readonly peerId: PeerId
  readonly privateKey: PrivateKey
  readonly libp2p: Libp2p<MeshServices>
  readonly #cfg: ResolvedConfig
  readonly #names: Map<Topic, string>
  readonly #topics: Map<string, Topic>
  readonly #handlers = new Map<Topic, Set<MessageHandler<Topic>>>()
  readonly #validated = new WeakMap<PubsubMessage, Message>()
  readonly #maintainer: ConnectionMaintainer
  readonly #now: () => number
  readonly #log = logger('bzzz:mesh')
  #started = false
  /** The start under way, if any: overlapping calls share it. */
  #starting: Promise<void> | undefined
  /** The stop under way, if any: a start waits for it (libp2p ignores a start while it stops). */
  #stopping: Promise<void> | undefined

  constructor (cfg: ResolvedConfig, libp2p: Libp2p<MeshServices>, privateKey: PrivateKey, now: () => number) {
    super()
    this.#cfg = cfg
    this.meshName = cfg.meshName
    this.libp2p = libp2p
    this.privateKey = privateKey
    this.peerId = libp2p.peerId
    this.#now = now
    const { names, topics } = topicMaps(cfg.meshName)
    this.#names = names
    this.#topics = topics
    this.#maintainer = new ConnectionMaintainer({
      libp2p,
      bootstrap: cfg.bootstrap,
      targetConnections: cfg.targetConnections,
      backoff: cfg.backoff,
      intervalMs: cfg.maintainIntervalMs,
      dialTimeoutMs: cfg.dialTimeoutMs,
      log: this.#log
    })
    const pubsub = libp2p.services.pubsub
    for (const [name, topic] of topics) {
      pubsub.topicValidators.set(name, (source, msg) => this.#validate(topic, name, source, msg))
    }
    pubsub.addEventListener('gossipsub:message', (evt) => { this.#deliver(evt.detail.msg, evt.detail.propagationSource) })
    libp2p.addEventListener('peer:connect', (evt) => { this.safeDispatchEvent('peer:join', { detail: evt.detail }) })
    libp2p.addEventListener('peer:disconnect', (evt) => { this.safeDispatchEvent('peer:leave', { detail: evt.detail }) })
  }

  #validate (topic: Topic, name: string, source: PeerId, msg: PubsubMessage): TopicValidatorResult {
    const signer = msg.type === 'signed' ? msg.from : undefined
    const result = validateMeshMessage(topic, msg.data, signer?.toString(), {
      maxBytes: this.#cfg.maxMessageBytes,
      maxSkewMs: this.#cfg.maxSkewMs,
      now: this.#now
    })
    if (result.ok) {
      this.#validated.set(msg, result.message)
      return TopicValidatorResult.Accept
    }
    this.#log('rejected a message on %s from %s via %p: %s', name, signer?.toString() ?? 'unsigned', source, result.reason)
    this.safeDispatchEvent('message:invalid', {
      detail: { topic: name, from: signer, propagationSource: source, reason: result.reason, error: result.error }
    })
    return TopicValidatorResult.Reject
  }

  #deliver (msg: PubsubMessage, propagationSource: PeerId): void {
    const topic = this.#topics.get(msg.topic)
    const message = this.#validated.get(msg)
    if (topic === undefined || message === undefined || msg.type !== 'signed') return
    this.#validated.delete(msg)
    const meta: MessageMeta = { topic, from: msg.from, propagationSource }
    this.safeDispatchEvent('message', { detail: { ...meta, message } })
    for (const handler of this.#handlers.get(topic) ?? []) {
      try {
        const result = handler(message, meta)
        if (result !== undefined) result.catch((err: unknown) => { this.#log.error('message handler failed: %e', err) })
      } catch (err) {
        this.#log.error('message handler failed: %e', err)
      }
    }
  }

  async start (options: AbortOptions = {}): Promise<void> {
    throwIfAborted(options.signal, 'mesh start')
    if (this.#stopping !== undefined) await race(this.#stopping.catch(() => {}), options.signal, 'mesh start')
    if (this.#started) return
    const starting = this.#starting ?? (this.#starting = this.#start())
    try {
      await race(starting, options.signal, 'mesh start')
    } catch (err) {
      // Aborted (or failed): leave nothing running. libp2p ignores a stop while it is still
      // starting, so let the start finish first, then stop it.
      await starting.catch(() => {})
      await this.stop().catch(() => {})
      throw err
    }
  }

  async #start (): Promise<void> {
    try {
      await this.libp2p.start()
      await this.libp2p.handle(directProtocol(this.meshName), directHandler({
        maxBytes: this.#cfg.maxMessageBytes,
        readTimeoutMs: 5000,
        accept: async (topic, data, from) => await this.#acceptDirect(topic, data, from)
      }), { force: true, maxInboundStreams: 8 })
      for (const topic of this.#handlers.keys()) this.libp2p.services.pubsub.subscribe(this.#name(topic))
      this.#maintainer.start()
      this.#started = true
      this.#log('started %p on %s', this.peerId, this.libp2p.getMultiaddrs().map((a) => a.toString()).join(', '))
    } finally {
      this.#starting = undefined
    }
  }

  async stop (options: AbortOptions = {}): Promise<void> {
    throwIfAborted(options.signal, 'mesh stop')
    const stopping = this.#stopping ?? (this.#stopping = this.#stop())
    await race(stopping, options.signal, 'mesh stop')
  }

  async #stop (): Promise<void> {
    try {
      this.#started = false
      this.#maintainer.stop()
      // A start under way would finish after libp2p's stop (which ignores a starting node)
      // and leave it running: let it finish, then stop what it started.
      await this.#starting?.catch(() => {})
      this.#started = false
      this.#maintainer.stop()
      await this.libp2p.stop()
    } finally {
      this.#stopping = undefined
    }
  }

  isStarted (): boolean {
    return this.#started
  }

  #name (topic: Topic): string {
    const name = this.#names.get(topic)
    if (name === undefined) throw new RangeError(`unknown topic ${JSON.stringify(topic)}`)
    return name
  }

  async publish<T extends Topic>(topic: T, message: TopicMessageMap[T], options: AbortOptions = {}): Promise<PublishResult> {
    throwIfAborted(options.signal, 'publish')
    if (!this.#started) throw new MeshNotStartedError('publish')
    const { name, bytes } = this.#encodeOwn(topic, message)
    const result = await race(this.libp2p.services.pubsub.publish(name, bytes), options.signal, 'publish')
    return { recipients: result.recipients.length }
  }

  async send<T extends Topic>(peer: string | PeerId, topic: T, message: TopicMessageMap[T], options: AbortOptions = {}): Promise<void> {
    throwIfAborted(options.signal, 'send')
    if (!this.#started) throw new MeshNotStartedError('send')
    const id = typeof peer === 'string' ? peerIdFromString(peer) : peer
    if (id.equals(this.peerId)) throw new RangeError('send: the peer is this peer')
    const { name, bytes } = this.#encodeOwn(topic, message)
    try {
      await sendDirect(this.libp2p, id, directProtocol(this.meshName), name, bytes, options)
    } catch (err) {
      if (options.signal?.aborted === true) throw new MeshAbortError('send', { cause: options.signal.reason })
      throw err
    }
  }

  async addAddresses (peer: string | PeerId, addrs: Iterable<string>, options: AbortOptions = {}): Promise<void> {
    const id = typeof peer === 'string' ? peerIdFromString(peer) : peer
    if (id.equals(this.peerId)) return
    const multiaddrs: Multiaddr[] = []
    for (const a of addrs) {
      try {
        const ma = multiaddr(a)
        const named = ma.getComponents().findLast((c) => c.name === 'p2p')?.value
        if (named === undefined || named === id.toString()) multiaddrs.push(ma)
      } catch {
        // Not a multiaddr: skipped, as the doc says.
      }
    }
    if (multiaddrs.length > 0) await this.libp2p.peerStore.merge(id, { multiaddrs }, options)
  }

  async #acceptDirect (name: string, data: Uint8Array, from: PeerId): Promise<DirectAnswer> {
    const topic = this.#topics.get(name)
    if (topic === undefined) return { ok: false, reason: 'unknown-topic' }
    if (!this.#cfg.directTopics.has(topic)) return { ok: false, reason: 'not-accepted' }
    if (!this.#started) return { ok: false, reason: 'not-subscribed' }
    const handlers = this.#handlers.get(topic)
    if (handlers === undefined || handlers.size === 0) return { ok: false, reason: 'not-subscribed' }
    const result = validateMeshMessage(topic, data, from.toString(), { maxBytes: this.#cfg.maxMessageBytes, maxSkewMs: this.#cfg.maxSkewMs, now: this.#now })
    if (!result.ok) {
      this.#log('refused a direct message on %s from %p: %s', name, from, result.reason)
      this.safeDispatchEvent('message:invalid', { detail: { topic: name, from, propagationSource: from, reason: result.reason, error: result.error } })
      return { ok: false, reason: result.reason }
    }
    const meta: MessageMeta = { topic, from, propagationSource: from, direct: true }
    this.safeDispatchEvent('message', { detail: { ...meta, message: result.message } })
    const pending: Array<Promise<void>> = []
    for (const handler of [...handlers]) {
      try {
        const r = handler(result.message, meta)
        if (r !== undefined) pending.push(r.catch((err: unknown) => { this.#log.error('message handler failed: %e', err) }))
      } catch (err) {
        this.#log.error('message handler failed: %e', err)
      }
    }
    await Promise.all(pending)
    return { ok: true }
  }

  /** Checks and encodes a message of this peer's own for `topic`. */
  #encodeOwn (topic: Topic, message: Message): { name: string, bytes: Uint8Array } {
    const name = this.#name(topic)
    const type = (message as { type?: unknown }).type
    if (typeof type !== 'string' || topicOfType(type) !== topic) {
      throw new SchemaError(typeof type === 'string' ? type : undefined, [{
        path: '/type', keyword: 'const', message: `a ${topic} message cannot have type ${JSON.stringify(type)}`
      }])
    }
    // Every peer checks the clock skew too: a message outside it would be rejected at the first
    // hop and counted against us, so it is refused here instead (InvalidTimestampError); so is a
    // message that names no sender (SchemaError), which no peer forwards.
    validate(message, { maxSkewMs: this.#cfg.maxSkewMs, now: this.#now, requireSender: true })
    const bytes = encode(message, { maxBytes: this.#cfg.maxMessageBytes })
    const author = authorOf(message)
    if (author.value !== undefined && author.value !== this.peerId.toString()) {
      throw new NodeIdMismatchError(author.field, this.peerId.toString(), author.value)
    }
    return { name, bytes }
  }

  subscribe<T extends Topic>(topic: T, handler: MessageHandler<T>): () => void {
    const name = this.#name(topic)
    let set = this.#handlers.get(topic)
    if (set === undefined) {
      set = new Set()
      this.#handlers.set(topic, set)
      if (this.#started) this.libp2p.services.pubsub.subscribe(name)
    }
    const h = handler as unknown as MessageHandler<Topic>
    set.add(h)
    return () => {
      const current = this.#handlers.get(topic)
      if (current === undefined || !current.delete(h) || current.size > 0) return
      this.#handlers.delete(topic)
      if (this.#started) this.libp2p.services.pubsub.unsubscribe(name)
    }
  }

  getPeers (): PeerId[] {
    return this.libp2p.getPeers()
  }

  getMultiaddrs (): Multiaddr[] {
    return this.libp2p.getMultiaddrs()
  }

  async dial (target: string | Multiaddr | PeerId, options: AbortOptions = {}): Promise<PeerId> {
    if (!this.#started) throw new MeshNotStartedError('dial')
    let to: Multiaddr | PeerId
    if (typeof target === 'string') {
      to = target.startsWith('/') ? multiaddr(target) : peerIdFromString(target)
    } else {
      to = target
    }
    const connection = await this.libp2p.dial(to, options)
    return connection.remotePeer
  }

  score (peer: string | PeerId): number {
    // `getScore` is on gossipsub's implementation, not on its exported interface.
    const pubsub = this.libp2p.services.pubsub as GossipSub & { getScore?: (id: string) => number }
    return pubsub.getScore?.(peer.toString()) ?? 0
  }
}

/**
 * Creates a peer of the Bzzz mesh (not started): loads or creates its identity, and builds
 * its libp2p node. See `MeshInit` for the options and their defaults.
 */
export async function createMesh (init: MeshInit = {}, options: AbortOptions = {}): Promise<Mesh> {
  const cfg = resolveConfig(init)
  if (init.privateKey !== undefined && init.identityPath !== undefined) {
    throw new InvalidMeshOptionError('identityPath', 'give either privateKey or identityPath, not both')
  }
  const privateKey = init.privateKey ??
    (init.identityPath !== undefined ? await loadOrCreateIdentity(init.identityPath, options) : await generateKeyPair('Ed25519'))
  const peerId = peerIdFromPrivateKey(privateKey)
  throwIfAborted(options.signal, 'createMesh')
  const libp2p = await createLibp2p<MeshServices>(libp2pOptions(cfg, init, privateKey, peerId))
  return new MeshImpl(cfg, libp2p, privateKey, init.now ?? Date.now)
}
