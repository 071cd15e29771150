import type { DirectRefusal } from './direct.js'

/** Codes of the errors this package throws. */
export type MeshErrorCode =
  | 'ERR_IDENTITY_PERMISSIONS'
  | 'ERR_IDENTITY_INVALID'
  | 'ERR_MESH_NOT_STARTED'
  | 'ERR_NODE_ID_MISMATCH'
  | 'ERR_INVALID_MESH_OPTION'
  | 'ERR_ABORTED'
  | 'ERR_SIGNER_MISMATCH'
  | 'ERR_UNSIGNED_MESSAGE'
  | 'ERR_DIRECT_REFUSED'

/** Base class of every error `@bzzz/mesh` throws itself (libp2p's own errors pass through unchanged). */
export class MeshError extends Error {
  readonly code: MeshErrorCode
  constructor (code: MeshErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'MeshError'
    this.code = code
  }
}

/**
 * The identity key file can be read by users other than its owner. The key is the peer's
 * identity: anyone who reads it can impersonate the peer, so the mesh refuses to use it.
 */
export class IdentityPermissionsError extends MeshError {
  readonly path: string
  /** The file's permission bits, e.g. `0o644`. */
  readonly mode: number
  constructor (path: string, mode: number) {
    super('ERR_IDENTITY_PERMISSIONS',
      `identity key file ${path} is readable by others (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); ` +
      `restrict it with \`chmod 600 ${path}\``)
    this.name = 'IdentityPermissionsError'
    this.path = path
    this.mode = mode & 0o777
  }
}

/** The identity key file exists but does not hold a protobuf-encoded Ed25519 private key. */
export class IdentityInvalidError extends MeshError {
  readonly path: string
  constructor (path: string, detail: string, options?: ErrorOptions) {
    super('ERR_IDENTITY_INVALID', `identity key file ${path} is not a valid Ed25519 private key: ${detail}`, options)
    this.name = 'IdentityInvalidError'
    this.path = path
  }
}

/** An operation that needs a running mesh was called before `start()` or after `stop()`. */
export class MeshNotStartedError extends MeshError {
  readonly operation: string
  constructor (operation: string) {
    super('ERR_MESH_NOT_STARTED', `cannot ${operation}: the mesh is not started`)
    this.name = 'MeshNotStartedError'
    this.operation = operation
  }
}

/**
 * A message to publish names another node (`node_id` / `from_node`) than this peer. Every
 * other peer would reject it, so it is refused before it is sent.
 */
export class NodeIdMismatchError extends MeshError {
  readonly field: string
  readonly expected: string
  readonly actual: string
  constructor (field: string, expected: string, actual: string) {
    super('ERR_NODE_ID_MISMATCH', `message ${field} ${JSON.stringify(actual.slice(0, 128))} is not this peer (${expected})`)
    this.name = 'NodeIdMismatchError'
    this.field = field
    this.expected = expected
    this.actual = actual
  }
}

/** An option of `createMesh` is out of range or contradicts another. */
export class InvalidMeshOptionError extends MeshError {
  readonly option: string
  constructor (option: string, message: string) {
    super('ERR_INVALID_MESH_OPTION', `invalid mesh option ${option}: ${message}`)
    this.name = 'InvalidMeshOptionError'
    this.option = option
  }
}

/** An operation was aborted through its `AbortSignal`. */
export class MeshAbortError extends MeshError {
  constructor (operation: string, options?: ErrorOptions) {
    super('ERR_ABORTED', `${operation} was aborted`, options)
    this.name = 'AbortError'
  }
}

/** A peer refused a message handed to it with `Mesh.send`, and why (as it answered). */
export class DirectRefusedError extends MeshError {
  declare readonly code: 'ERR_DIRECT_REFUSED'
  readonly peer: string
  readonly reason: DirectRefusal
  constructor (peer: string, reason: DirectRefusal) {
    super('ERR_DIRECT_REFUSED', `peer ${peer} refused the message: ${reason}`)
    this.name = 'DirectRefusedError'
    this.peer = peer
    this.reason = reason
  }
}
