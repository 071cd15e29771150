// Direct delivery: one message handed to one peer over a stream of its own, outside gossip. The
// peer validates it as it would a gossip message (the connection's remote peer is its signer:
// connections are authenticated), gives it to its handlers of the topic, waits for them, and
// answers. Nothing is forwarded: the sender publishes on gossip too if the mesh should hear it.
import type { AbortOptions, Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { DirectRefusedError } from './errors.js'
import type { InvalidReason } from './validation.js'

/** The stream protocol of direct delivery in a mesh. */
export function directProtocol (meshName: string): string {
  return `/bzzz/${meshName}/direct/1.0.0`
}

/** Why a peer refused a message handed to it directly. */
export type DirectRefusal = InvalidReason | 'unknown-topic' | 'not-accepted' | 'not-subscribed' | 'bad-request'

export type DirectAnswer = { ok: true } | { ok: false, reason: DirectRefusal }

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const REFUSALS = new Set<string>(['unsigned', 'too-large', 'malformed', 'wrong-topic', 'clock-skew', 'signer-mismatch', 'unknown-topic', 'not-accepted', 'not-subscribed', 'bad-request'])

export interface DirectHandlerInit {
  maxBytes: number
  /** How long the sender may take to send its frames, ms. */
  readTimeoutMs: number
  /** Validates and delivers one message from `from`; resolves when its handlers are done. */
  accept: (topic: string, data: Uint8Array, from: PeerId) => Promise<DirectAnswer>
}

/** The stream handler of the receiving side: two frames in (topic, message), one answer out. */
export function directHandler (init: DirectHandlerInit): (stream: Stream, connection: Connection) => Promise<void> {
  return async (stream, connection) => {
    const lp = lpStream(stream, { maxDataLength: init.maxBytes + 1024 })
    try {
      const read = AbortSignal.timeout(init.readTimeoutMs)
      const topic = decoder.decode((await lp.read({ signal: read })).subarray())
      const data = (await lp.read({ signal: read })).subarray()
      let answer: DirectAnswer
      try {
        answer = await init.accept(topic, data, connection.remotePeer)
      } catch {
        answer = { ok: false, reason: 'bad-request' }
      }
      const write = AbortSignal.timeout(init.readTimeoutMs)
      await lp.write(encoder.encode(JSON.stringify(answer)), { signal: write })
      await stream.close({ signal: write })
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }
}

/** Sends `data` (an encoded message of pubsub topic `topic`) to `peer`; resolves once it accepted it. */
export async function sendDirect (libp2p: Pick<Libp2p, 'dialProtocol'>, peer: PeerId, protocol: string, topic: string, data: Uint8Array, options: AbortOptions = {}): Promise<void> {
  const signal = options.signal
  const stream = await libp2p.dialProtocol(peer, protocol, { signal })
  try {
    const lp = lpStream(stream, { maxDataLength: 4096 })
    await lp.writeV([encoder.encode(topic), data], { signal })
    const raw = decoder.decode((await lp.read({ signal })).subarray())
    await stream.close({ signal })
    let answer: unknown
    try { answer = JSON.parse(raw) } catch { answer = undefined }
    const a = answer as { ok?: unknown, reason?: unknown } | undefined
    if (a?.ok === true) return
    const reason = typeof a?.reason === 'string' && REFUSALS.has(a.reason) ? a.reason as DirectRefusal : 'bad-request'
    throw new DirectRefusedError(peer.toString(), reason)
  } catch (err) {
    if (stream.status === 'open' || stream.status === 'closing') stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}
