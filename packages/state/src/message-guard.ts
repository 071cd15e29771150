// The ledger and the log take protocol messages. From JavaScript, the mesh's `message` event
// (`{ topic, message, from, … }`) or anything else without a `type` is easy to pass by mistake, and
// would be ignored without a word; it is refused instead. (TypeScript already refuses it.)

/** A value that is not a protocol message was given where one is wanted. */
export class NotAMessageError extends TypeError {
  /** Where it was given (`ledger.observe`, `logEntryForMessage`). */
  readonly where: string
  /** The value's own keys (never its contents), to tell a wrapper from a message. */
  readonly keys: string[]
  constructor (where: string, keys: string[]) {
    const hint = keys.includes('message') ? ' (an event wrapper? pass its `message`)' : ''
    super(`${where} takes a protocol message (with a string \`type\`), got an object with keys [${keys.slice(0, 10).join(', ')}]${hint}`)
    this.name = 'NotAMessageError'
    this.where = where
    this.keys = keys
  }
}

/** Throws `NotAMessageError` unless `value` is an object with a string `type`. */
export function assertMessage (value: unknown, where: string): void {
  if (value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string') return
  throw new NotAMessageError(where, value !== null && typeof value === 'object' ? Object.keys(value) : [typeof value])
}
