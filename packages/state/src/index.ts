export { canonicalJson, NotCanonicalError, type JsonValue } from './canonical.js'
export {
  DEFAULT_LIVENESS,
  InvalidConfigError,
  livenessAt,
  livenessConfig,
  type Liveness,
  type LivenessConfig
} from './liveness.js'
export { rendezvousRank, rendezvousWeight } from './rendezvous.js'
export { satisfiesRequirements, type SatisfiesFn } from './requirements.js'
export {
  compareTaskMessages,
  reduceTask,
  taskKey,
  type ClaimState,
  type Holder,
  type LostClaim,
  type TaskMessage,
  type TaskState
} from './task.js'
export {
  DEFAULT_HELP,
  decideHelp,
  helpRequestId,
  rankHelpOffers,
  type HelpConfig,
  type HelperInfo,
  type HelpOffer,
  type HelpStatus,
  type HelpView
} from './help.js'
export {
  createLedger,
  type ClaimPlan,
  type Ledger,
  type LedgerInit,
  type LedgerStore,
  type PeerRecord,
  type PeerView,
  type TaskStatus,
  type TaskView,
  type WatcherElection
} from './ledger.js'
export {
  LOG_ENTRY_TYPES,
  LogConflictError,
  authorKey,
  equivocation,
  isCanonicalAuthor,
  createSignedLog,
  logEntryForMessage,
  logEntryHash,
  verifyLog,
  verifyLogEntries,
  type Equivocation,
  type LogEntry,
  type LogEntryType,
  type LogHead,
  type LogStore,
  type SignedLog,
  type SignedLogInit,
  type VerifyOptions
} from './log.js'
export {
  LogVerificationError,
  LogSignatureError,
  LogHashError,
  LogChainError,
  LogGapError,
  LogReorderError,
  LogTruncatedError,
  LogForkError,
  LogAuthorError,
  LogAuthorIdError,
  LogMalformedError,
  type LogErrorCode
} from './log-errors.js'
export { createMemoryStore, type MemoryStore } from './memory-store.js'
export { openStateStore, StoreVersionError, type StateStore, type StateStoreInit } from './sqlite.js'
export {
  LOG_PROTOCOL,
  LogCapError,
  ReplicationProtocolError,
  createLogReplicator,
  type MeshPubSub,
  type ReplicatorEvents,
  type LogReplicator,
  type ReplicatorComponents,
  type ReplicatorInit,
  type SyncResult
} from './replication.js'
