/** A problem found by schema validation: where (a JSON pointer into the message) and what. */
export interface SchemaIssue {
  /** JSON pointer of the offending value, e.g. `/load/cpu`; `""` is the whole message. */
  path: string
  /** The JSON Schema keyword that failed, e.g. `required`, `type`, `maximum`. */
  keyword: string
  message: string
}

export type ProtocolErrorCode =
  | 'ERR_MESSAGE_TOO_LARGE'
  | 'ERR_INVALID_UTF8'
  | 'ERR_INVALID_JSON'
  | 'ERR_SCHEMA'
  | 'ERR_INVALID_TIMESTAMP'

/**
 * Base class of every error `decode` and `encode` throw. Decoding never throws anything
 * else, so `catch (err) { if (err instanceof ProtocolError) … }` covers every bad input.
 */
export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode
  constructor (code: ProtocolErrorCode, message: string) {
    super(message)
    this.name = 'ProtocolError'
    this.code = code
  }
}

/** The message is larger than the size cap. Nothing of it was parsed. */
export class MessageTooLargeError extends ProtocolError {
  readonly size: number
  readonly limit: number
  constructor (size: number, limit: number) {
    super('ERR_MESSAGE_TOO_LARGE', `message of ${size} bytes exceeds the limit of ${limit} bytes`)
    this.name = 'MessageTooLargeError'
    this.size = size
    this.limit = limit
  }
}

/** The bytes are not valid UTF-8. */
export class InvalidUtf8Error extends ProtocolError {
  constructor () {
    super('ERR_INVALID_UTF8', 'message is not valid UTF-8')
    this.name = 'InvalidUtf8Error'
  }
}

/** The text is not JSON. `detail` is the parser's own explanation (with a position). */
export class InvalidJsonError extends ProtocolError {
  readonly detail: string
  constructor (detail: string) {
    super('ERR_INVALID_JSON', `message is not valid JSON: ${detail}`)
    this.name = 'InvalidJsonError'
    this.detail = detail
  }
}

/** The JSON does not match the schema of its message type; `issues` lists every problem with its path. */
export class SchemaError extends ProtocolError {
  /** The message's `type` when it was a known one. */
  readonly messageType: string | undefined
  readonly issues: readonly SchemaIssue[]
  constructor (messageType: string | undefined, issues: readonly SchemaIssue[]) {
    const shown = issues.slice(0, 5).map((i) => `${i.path === '' ? '/' : i.path}: ${i.message}`).join('; ')
    const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''
    super('ERR_SCHEMA', `invalid ${messageType ?? 'message'}: ${shown}${more}`)
    this.name = 'SchemaError'
    this.messageType = messageType
    this.issues = issues
  }
}

/** A timestamp is not RFC 3339 (`reason: 'format'`), or lies outside the allowed clock skew (`reason: 'skew'`). */
export class InvalidTimestampError extends ProtocolError {
  readonly path: string
  readonly value: string
  readonly reason: 'format' | 'skew'
  /** For `skew`: message time minus local time, in milliseconds. */
  readonly skewMs: number | undefined
  constructor (path: string, value: string, reason: 'format' | 'skew', skewMs?: number) {
    const what = reason === 'format'
      ? `is not an RFC 3339 date-time: ${JSON.stringify(value.slice(0, 64))}`
      : `is ${Math.round(Math.abs(skewMs ?? 0) / 1000)} s in the ${(skewMs ?? 0) > 0 ? 'future' : 'past'}, outside the allowed clock skew`
    super('ERR_INVALID_TIMESTAMP', `${path} ${what}`)
    this.name = 'InvalidTimestampError'
    this.path = path
    this.value = value
    this.reason = reason
    this.skewMs = skewMs
  }
}
