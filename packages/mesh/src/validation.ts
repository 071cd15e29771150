import {
  DEFAULT_MAX_MESSAGE_BYTES,
  InvalidTimestampError,
  MESSAGE_TYPES,
  MessageTooLargeError,
  SENDER_FIELD,
  senderOf,
  ProtocolError,
  SchemaError,
  decode,
  type Message,
  type Topic
} from '@bzzz/protocol'
import { MeshError } from './errors.js'

/** Why a message was rejected. */
export type InvalidReason =
  /** Not signed by its author (gossipsub's StrictSign is on, so this is defence in depth). */
  | 'unsigned'
  /** Larger than the size cap. */
  | 'too-large'
  /** Not UTF-8 JSON, not a valid message of any type (the schema), or naming no sender. */
  | 'malformed'
  /** A valid message, but of another topic's type. */
  | 'wrong-topic'
  /** Its timestamp lies outside the allowed clock skew. */
  | 'clock-skew'
  /** The node it names (`node_id` / `from_node`) is not the peer that signed it. */
  | 'signer-mismatch'

export interface ValidationLimits {
  /** Largest accepted message, bytes. */
  maxBytes: number
  /** Largest accepted distance between a message's timestamp and the local clock, ms. */
  maxSkewMs: number
  /** The local clock. */
  now: () => number
}

export type ValidationResult =
  | { ok: true, message: Message }
  | { ok: false, reason: InvalidReason, error: Error }

/** The field of each message type that names its author (`SENDER_FIELD` of `@bzzz/protocol`). */
export const AUTHOR_FIELD: Readonly<Record<Message['type'], 'node_id' | 'from_node'>> = SENDER_FIELD

/**
 * The node a message names as its author. `value` is `undefined` only for a `task` without
 * `node_id`, which `validateMeshMessage` refuses as malformed: the mesh carries no anonymous message.
 */
export function authorOf (message: Message): { field: 'node_id' | 'from_node', value: string | undefined } {
  return { field: SENDER_FIELD[message.type], value: senderOf(message) }
}

/** A message names a node that is not its signer. */
export class SignerMismatchError extends MeshError {
  declare readonly code: 'ERR_SIGNER_MISMATCH'
  readonly field: string
  readonly named: string
  readonly signer: string
  constructor (field: string, named: string, signer: string) {
    super('ERR_SIGNER_MISMATCH', `${field} ${JSON.stringify(named.slice(0, 128))} is not the signer ${signer}`)
    this.name = 'SignerMismatchError'
    this.field = field
    this.named = named
    this.signer = signer
  }
}

/** A message arrived without a signature. */
export class UnsignedMessageError extends MeshError {
  declare readonly code: 'ERR_UNSIGNED_MESSAGE'
  constructor () {
    super('ERR_UNSIGNED_MESSAGE', 'message is not signed')
    this.name = 'UnsignedMessageError'
  }
}

/**
 * Decides whether a pubsub message may be delivered and forwarded: it decodes through
 * `@bzzz/protocol` (size cap, UTF-8 JSON, schema, clock skew), is of the topic's type, names
 * its sender (a `task` without `node_id` is malformed here), and that node is `signer`, the peer whose key signed it. Pure but for `limits.now`.
 */
export function validateMeshMessage (
  topic: Topic,
  data: Uint8Array,
  signer: string | undefined,
  limits: ValidationLimits
): ValidationResult {
  if (signer === undefined) return { ok: false, reason: 'unsigned', error: new UnsignedMessageError() }
  let message: Message
  try {
    message = decode(data, { maxBytes: limits.maxBytes, maxSkewMs: limits.maxSkewMs, now: limits.now, requireSender: true })
  } catch (err) {
    if (err instanceof MessageTooLargeError) return { ok: false, reason: 'too-large', error: err }
    if (err instanceof InvalidTimestampError && err.reason === 'skew') return { ok: false, reason: 'clock-skew', error: err }
    if (err instanceof ProtocolError) return { ok: false, reason: 'malformed', error: err }
    return { ok: false, reason: 'malformed', error: err instanceof Error ? err : new Error(String(err)) }
  }
  if (message.type !== MESSAGE_TYPES[topic]) {
    return {
      ok: false,
      reason: 'wrong-topic',
      // As @bzzz/protocol's decodeTopic reports it.
      error: new SchemaError(message.type, [{
        path: '/type',
        keyword: 'const',
        message: `a ${topic} message must have type ${JSON.stringify(MESSAGE_TYPES[topic])}, not ${JSON.stringify(message.type)}`
      }])
    }
  }
  const author = authorOf(message)
  if (author.value !== signer) {
    return { ok: false, reason: 'signer-mismatch', error: new SignerMismatchError(author.field, author.value ?? '', signer) }
  }
  return { ok: true, message }
}

export const DEFAULT_LIMITS: Omit<ValidationLimits, 'now'> = {
  maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxSkewMs: 5 * 60_000
}
