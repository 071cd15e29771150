export {
  createCapabilityDetector,
  PROBE_KINDS,
  type CapabilityDetector,
  type CapabilityDetectorInit,
  type CapabilityDetectorComponents,
  type CapabilityDetectorEvents,
  type CapabilityChangeDetail,
  type ProbeKind,
  type RefreshOptions,
  type AbortOptions
} from './detector.js'
export { satisfies, modelKey, cliKey, type CapabilitySet, type Missing, type SatisfiesResult } from './satisfies.js'
export { diffSnapshots, loadChanged, DEFAULT_LOAD_CHANGE, type CapabilityChange, type LoadChangeOptions, type LoadMetric } from './change.js'
export { toCapabilitiesMessage, toPresencePing, type ToMessageOptions, type ToPresenceOptions } from './message.js'
export { DEFAULT_CLIS, parseVersion, type CliSpec } from './clis.js'
export { DEFAULT_OLLAMA_HOST, ollamaBaseUrl } from './ollama.js'
export type { GraphicsController } from './gpu.js'
export type { CpuInfoLike, MemReading } from './load.js'
export {
  CapabilitiesError,
  InvalidOptionsError,
  InvalidArgumentError,
  DetectorStoppedError,
  type CapabilitiesErrorCode
} from './errors.js'
export type {
  Absence,
  AbsenceReason,
  CapabilitySnapshot,
  CliState,
  GpuInfo,
  GpuState,
  LoadSample,
  OllamaLoadedModel,
  OllamaModel,
  OllamaState
} from './types.js'
