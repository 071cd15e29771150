export {
  createMesh,
  type Mesh,
  type MeshInit,
  type MeshEvents,
  type MeshServices,
  type MessageHandler,
  type MessageMeta,
  type MeshMessageEvent,
  type InvalidMessageEvent,
  type PublishResult
} from './mesh.js'
export { DEFAULT_MESH_NAME, type MeshTransport, type MeshGossipOptions, type MeshEncryption } from './config.js'
export type { BackoffOptions } from './backoff.js'
export { loadOrCreateIdentity, loadIdentity } from './identity.js'
export { generateNetworkKey } from './network-key.js'
export { validateMeshMessage, authorOf, type InvalidReason, type ValidationLimits, type ValidationResult } from './validation.js'
export {
  MeshError,
  IdentityPermissionsError,
  IdentityInvalidError,
  MeshNotStartedError,
  NodeIdMismatchError,
  InvalidMeshOptionError,
  MeshAbortError,
  DirectRefusedError,
  type MeshErrorCode
} from './errors.js'
export { directProtocol, type DirectRefusal } from './direct.js'
export { SignerMismatchError, UnsignedMessageError } from './validation.js'
