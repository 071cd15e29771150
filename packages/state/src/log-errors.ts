import type { LogEntry } from './log.js'

export type LogErrorCode =
  | 'ERR_LOG_SIGNATURE'
  | 'ERR_LOG_HASH'
  | 'ERR_LOG_CHAIN'
  | 'ERR_LOG_GAP'
  | 'ERR_LOG_REORDER'
  | 'ERR_LOG_TRUNCATED'
  | 'ERR_LOG_FORK'
  | 'ERR_LOG_AUTHOR'
  | 'ERR_LOG_AUTHOR_ID'
  | 'ERR_LOG_MALFORMED'

/**
 * Base class of everything log verification finds wrong. `author` is the log's peer id and
 * `seq` the sequence number of the first entry found wrong (or, for truncation, the first one
 * missing). Nothing is stored from a batch that fails.
 */
export class LogVerificationError extends Error {
  readonly code: LogErrorCode
  readonly author: string
  readonly seq: number
  constructor (code: LogErrorCode, author: string, seq: number, message: string) {
    super(`log ${author.slice(0, 16)}… entry ${seq}: ${message}`)
    this.name = 'LogVerificationError'
    this.code = code
    this.author = author
    this.seq = seq
  }
}

/** The signature does not verify with the author's key: forged, or re-hashed after a change. */
export class LogSignatureError extends LogVerificationError {
  constructor (author: string, seq: number) {
    super('ERR_LOG_SIGNATURE', author, seq, 'signature does not verify with the author\'s key')
    this.name = 'LogSignatureError'
  }
}

/** The entry's content does not hash to its `hash`: it was changed after it was signed. */
export class LogHashError extends LogVerificationError {
  readonly expected: string
  readonly actual: string
  constructor (author: string, seq: number, expected: string, actual: string) {
    super('ERR_LOG_HASH', author, seq, 'content does not match its hash (changed)')
    this.name = 'LogHashError'
    this.expected = expected
    this.actual = actual
  }
}

/** The entry's `prev` is not the hash of the entry before it. */
export class LogChainError extends LogVerificationError {
  constructor (author: string, seq: number) {
    super('ERR_LOG_CHAIN', author, seq, 'prev is not the hash of the entry before it (broken chain)')
    this.name = 'LogChainError'
  }
}

/** An entry is missing: sequence numbers jump from `seq - 1` to `found`. */
export class LogGapError extends LogVerificationError {
  readonly found: number
  constructor (author: string, seq: number, found: number) {
    super('ERR_LOG_GAP', author, seq, `missing: the next entry present is ${found} (removed)`)
    this.name = 'LogGapError'
    this.found = found
  }
}

/** An entry appears out of order: `found` where `seq` was due. */
export class LogReorderError extends LogVerificationError {
  readonly found: number
  constructor (author: string, seq: number, found: number) {
    super('ERR_LOG_REORDER', author, seq, `expected entry ${seq}, found ${found} (reordered or repeated)`)
    this.name = 'LogReorderError'
    this.found = found
  }
}

/** The log is shorter than a head already known for it (entries cut from the end). */
export class LogTruncatedError extends LogVerificationError {
  readonly length: number
  readonly knownLength: number
  constructor (author: string, length: number, knownLength: number) {
    super('ERR_LOG_TRUNCATED', author, length, `log has ${length} entries, but ${knownLength} are known (truncated)`)
    this.name = 'LogTruncatedError'
    this.length = length
    this.knownLength = knownLength
  }
}

/**
 * Two different validly signed entries with the same sequence number: the author forked its
 * log (equivocated). `evidence`, when both entries are at hand, holds them both (ours first):
 * each verifies with the author's key, which proves the author signed both.
 */
export class LogForkError extends LogVerificationError {
  readonly evidence: readonly [LogEntry, LogEntry] | undefined
  constructor (author: string, seq: number, evidence?: readonly [LogEntry, LogEntry]) {
    super('ERR_LOG_FORK', author, seq, 'differs from the entry already known at this sequence number (fork)')
    this.name = 'LogForkError'
    this.evidence = evidence
  }
}

/** The entry names another author than the log it was offered for. */
export class LogAuthorError extends LogVerificationError {
  readonly claimed: string
  constructor (author: string, seq: number, claimed: string) {
    super('ERR_LOG_AUTHOR', author, seq, 'belongs to another author')
    this.name = 'LogAuthorError'
    this.claimed = claimed
  }
}

/** The entry is not even shaped like one (missing field, bad type, not canonical JSON). */
export class LogMalformedError extends LogVerificationError {
  constructor (author: string, seq: number, detail: string) {
    super('ERR_LOG_MALFORMED', author, seq, `malformed: ${detail}`)
    this.name = 'LogMalformedError'
  }
}

/**
 * The log's author is not the canonical string of an Ed25519 peer id (`12D3KooW…`): a CID
 * spelling of the same key (`bafz…`, `k51…`), another key type, or no peer id at all. One key
 * has exactly one log, so the other spellings are refused.
 */
export class LogAuthorIdError extends LogVerificationError {
  constructor (author: string) {
    super('ERR_LOG_AUTHOR_ID', author, 0, 'author is not the canonical peer id of an Ed25519 key')
    this.name = 'LogAuthorIdError'
  }
}
