import { Compile, type Validator } from 'typebox/compile'
import type { TSchema } from 'typebox'
import {
  InvalidJsonError,
  InvalidTimestampError,
  InvalidUtf8Error,
  MessageTooLargeError,
  ProtocolError,
  SchemaError,
  type SchemaIssue
} from './errors.js'
import { parseTimestamp } from './timestamp.js'
import { SENDER_FIELD } from './sender.js'
import { MESSAGE_TYPES, schemas, topicOfType, type Message, type MessageType, type Topic, type TopicMessageMap } from './topics.js'

/** The default size cap of an encoded message: 64 KiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024

export interface DecodeOptions {
  /** Largest accepted message in bytes. Default 64 KiB. */
  maxBytes?: number
  /**
   * Largest allowed distance, in ms, between the message's `timestamp` and `now`.
   * Unset: timestamps are checked for format only.
   */
  maxSkewMs?: number
  /** The local clock, for the skew check. Default `Date.now`. */
  now?: () => number
  /**
   * Require the sender (`SENDER_FIELD`: `node_id`, or `from_node` of help messages), as the
   * mesh does for every message it carries: a `task` without `node_id` is then refused with a
   * `SchemaError` at `/node_id`. Default false, so that the seed's `task` sample, which names
   * no sender, stays valid for `decode`.
   */
  requireSender?: boolean
}

export interface EncodeOptions {
  /** Largest message this encoder will produce, in bytes. Default 64 KiB. */
  maxBytes?: number
}

export type DecodeResult<T = Message> =
  | { ok: true, message: T }
  | { ok: false, error: ProtocolError }

// Every validator is compiled to JavaScript once, when the module loads.
const validators = new Map<string, Validator<Record<never, never>, TSchema>>(
  (Object.keys(schemas) as Topic[]).map((topic) => [MESSAGE_TYPES[topic], Compile(schemas[topic])])
)

/** Fields that hold a timestamp, per message type, beyond `timestamp` itself. */
const EXTRA_TIMESTAMPS: Readonly<Record<string, readonly string[]>> = { task_claim: ['lease_expires'] }

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const encoder = new TextEncoder()

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function schemaIssues (validator: Validator<Record<never, never>, TSchema>, value: unknown): SchemaIssue[] {
  const issues = validator.Errors(value).map((e): SchemaIssue => ({
    path: e.instancePath,
    keyword: e.keyword,
    message: e.message
  }))
  // The compiled check and the error walker agree; this is a guard, not a path taken.
  return issues.length > 0 ? issues : [{ path: '', keyword: 'schema', message: 'does not match the schema' }]
}

interface Frame { value: unknown, key: string, parent: Frame | undefined }

function pathOf (frame: Frame): string {
  const keys: string[] = []
  for (let f: Frame | undefined = frame; f !== undefined; f = f.parent) keys.push(f.key)
  return keys.reverse().join('')
}

/**
 * Finite numbers only: JSON has no NaN or Infinity, and `1e999` parses to Infinity. Walks
 * iteratively (a 64 KiB message can nest tens of thousands deep), builds a path only for a
 * problem found, and ends on a cycle (a value built in code may hold one).
 */
function nonFiniteIssues (value: unknown, path: string, out: SchemaIssue[]): void {
  const stack: Frame[] = [{ value, key: path, parent: undefined }]
  // Parsed JSON has no cycles and params are small: track visited objects only once the walk
  // grows long, which still ends any cycle (each of its objects is then visited once more at most).
  let budget = 1024
  let seen: WeakSet<object> | undefined
  while (stack.length > 0) {
    const frame = stack.pop() as Frame
    const v = frame.value
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) out.push({ path: pathOf(frame), keyword: 'type', message: 'must be a finite number' })
    } else if (typeof v === 'object' && v !== null) {
      if (seen !== undefined) {
        if (seen.has(v)) continue
        seen.add(v)
      } else if (--budget === 0) {
        seen = new WeakSet()
      }
      const entries = Object.entries(v)
      // Pushed in reverse so that problems are reported in document order.
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i] as [string, unknown]
        stack.push({ value: child, key: `/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`, parent: frame })
      }
    }
  }
}

/**
 * Validates an already-parsed value as a mesh message. Throws `SchemaError` or
 * `InvalidTimestampError`; returns the same object, typed.
 */
export function validate (value: unknown, options: Pick<DecodeOptions, 'maxSkewMs' | 'now' | 'requireSender'> = {}): Message {
  if (!isRecord(value)) {
    throw new SchemaError(undefined, [{ path: '', keyword: 'type', message: 'must be a JSON object' }])
  }
  const type = value.type
  const validator = typeof type === 'string' ? validators.get(type) : undefined
  if (validator === undefined) {
    const message = typeof type === 'string'
      ? `unknown message type ${JSON.stringify(type.slice(0, 64))}`
      : 'must be a string naming the message type'
    throw new SchemaError(undefined, [{ path: '/type', keyword: typeof type === 'string' ? 'const' : 'required', message }])
  }
  const msgType = type as string
  if (!validator.Check(value)) throw new SchemaError(msgType, schemaIssues(validator, value))
  // Typed numbers are checked finite by the schema; free-form `params` may still hold 1e999.
  if (msgType === 'task') {
    const nonFinite: SchemaIssue[] = []
    nonFiniteIssues(value.params, '/params', nonFinite)
    if (nonFinite.length > 0) throw new SchemaError(msgType, nonFinite)
  }
  if (options.requireSender === true) {
    const field = SENDER_FIELD[msgType as MessageType]
    if (typeof value[field] !== 'string') {
      throw new SchemaError(msgType, [{ path: `/${field}`, keyword: 'required', message: `must name its sender (${field})` }])
    }
  }
  if (msgType === 'task_result' && value.result_type === 'failure' && value.reason === undefined) {
    throw new SchemaError(msgType, [{ path: '/reason', keyword: 'required', message: 'a failure result must say why (reason)' }])
  }

  const ts = value.timestamp as string
  const at = parseTimestamp(ts)
  if (at === undefined) throw new InvalidTimestampError('/timestamp', ts, 'format')
  for (const field of EXTRA_TIMESTAMPS[msgType] ?? []) {
    const extra = value[field]
    if (typeof extra === 'string' && parseTimestamp(extra) === undefined) {
      throw new InvalidTimestampError(`/${field}`, extra, 'format')
    }
  }
  if (options.maxSkewMs !== undefined) {
    const skew = at - (options.now ?? Date.now)()
    if (Math.abs(skew) > options.maxSkewMs) throw new InvalidTimestampError('/timestamp', ts, 'skew', skew)
  }
  return value as unknown as Message
}

/**
 * Decodes bytes (or a string) into a typed, validated message.
 *
 * Throws only `ProtocolError` subclasses: `MessageTooLargeError`, `InvalidUtf8Error`,
 * `InvalidJsonError`, `SchemaError` (with the JSON path of each problem) and
 * `InvalidTimestampError`. Unknown extra fields are kept (forward compatibility).
 */
export function decode (data: Uint8Array | string, options: DecodeOptions = {}): Message {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  let text: string
  if (typeof data === 'string') {
    // A JS string of n UTF-16 units is at most 3n UTF-8 bytes; measure exactly only when it may matter.
    if (data.length * 3 > maxBytes) {
      const size = Buffer.byteLength(data, 'utf8')
      if (size > maxBytes) throw new MessageTooLargeError(size, maxBytes)
    }
    if (!data.isWellFormed()) throw new InvalidUtf8Error()
    text = data
  } else {
    if (data.byteLength > maxBytes) throw new MessageTooLargeError(data.byteLength, maxBytes)
    try {
      text = utf8.decode(data)
    } catch {
      throw new InvalidUtf8Error()
    }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new InvalidJsonError(err instanceof Error ? err.message : String(err))
  }
  try {
    return validate(value, options)
  } catch (err) {
    if (err instanceof ProtocolError) throw err
    // Nothing above should throw anything else; if it ever does, it is still a bad message.
    throw new SchemaError(undefined, [{ path: '', keyword: 'schema', message: err instanceof Error ? err.message : String(err) }])
  }
}

/** Like `decode`, but returns the error instead of throwing it. */
export function safeDecode (data: Uint8Array | string, options: DecodeOptions = {}): DecodeResult {
  try {
    return { ok: true, message: decode(data, options) }
  } catch (err) {
    if (err instanceof ProtocolError) return { ok: false, error: err }
    return { ok: false, error: new SchemaError(undefined, [{ path: '', keyword: 'schema', message: String(err) }]) }
  }
}

/**
 * Decodes a message that arrived on `topic`; a message of another topic's type is a
 * `SchemaError` at `/type`.
 */
export function decodeTopic<T extends Topic> (topic: T, data: Uint8Array | string, options: DecodeOptions = {}): TopicMessageMap[T] {
  const message = decode(data, options)
  if (message.type !== MESSAGE_TYPES[topic]) {
    throw new SchemaError(message.type, [{
      path: '/type',
      keyword: 'const',
      message: `a ${topic} message must have type ${JSON.stringify(MESSAGE_TYPES[topic])}, not ${JSON.stringify(message.type)}`
    }])
  }
  return message as TopicMessageMap[T]
}

/**
 * Validates and encodes a message to UTF-8 JSON bytes. Throws `SchemaError`,
 * `InvalidTimestampError` or `MessageTooLargeError`: an invalid message is never sent.
 */
export function encode (message: Message, options: EncodeOptions = {}): Uint8Array {
  const valid = validate(message)
  let json: string
  try {
    json = JSON.stringify(message)
  } catch (err) {
    // Free-form `params` can hold what JSON cannot: a BigInt, a cycle.
    throw new SchemaError(valid.type, [{ path: '', keyword: 'json', message: `cannot be written as JSON: ${err instanceof Error ? err.message : String(err)}` }])
  }
  const bytes = encoder.encode(json)
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  if (bytes.byteLength > maxBytes) throw new MessageTooLargeError(bytes.byteLength, maxBytes)
  return bytes
}

/** Whether a value is a valid message (of `topic`, when given). */
export function isMessage (value: unknown, topic?: Topic): value is Message {
  try {
    const message = validate(value)
    return topic === undefined || topicOfType(message.type) === topic
  } catch {
    return false
  }
}
