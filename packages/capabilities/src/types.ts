import type { PeerStatus } from '@bzzz/protocol'

/**
 * Why something is absent. Absence is a normal answer, not an error:
 * - `not-installed`: the executable is not on the PATH, or the machine has no such device;
 * - `not-running`: the service (Ollama) refused the connection;
 * - `timed-out`: the probe did not answer in time and was cut off;
 * - `failed`: it answered, but with an error or something unreadable;
 * - `not-probed`: not looked at yet (before the first refresh).
 */
export type AbsenceReason = 'not-installed' | 'not-running' | 'timed-out' | 'failed' | 'not-probed'

export interface Absence {
  reason: AbsenceReason
  /** A short human explanation (an exit code, an error code, the first line of stderr). */
  detail: string
}

/** One agent CLI, as found on this machine. */
export type CliState =
  | {
    name: string
    available: true
    /** Absolute path of the executable found on the PATH. */
    path: string
    /** The first version-looking token printed by `--version`, when there is one. */
    version?: string
  }
  | {
    name: string
    available: false
    /** Set when the executable exists but its version probe failed or hung. */
    path?: string
    absence: Absence
  }

/** An installed Ollama model. */
export interface OllamaModel {
  name: string
  size?: number
  digest?: string
  modifiedAt?: string
  family?: string
  parameterSize?: string
  quantizationLevel?: string
}

/** A model loaded in memory now (`/api/ps`). */
export interface OllamaLoadedModel {
  name: string
  size?: number
  sizeVram?: number
  expiresAt?: string
}

export type OllamaState =
  | {
    available: true
    /** Where the model list came from: the HTTP API, or `ollama list` when the API could not be used. */
    source: 'api' | 'cli'
    /** The API's base URL that was asked. */
    host: string
    models: OllamaModel[]
    loaded: OllamaLoadedModel[]
    /** Why the API was not used, when `source` is `cli`; why `/api/ps` gave nothing, when it failed. */
    apiAbsence?: Absence
  }
  | {
    available: false
    host: string
    /** The most telling of the two reasons below (the API's, unless the CLI exists). */
    absence: Absence
    api: Absence
    cli: Absence
  }

/** One GPU. Memory in MiB, utilisation in percent; fields the driver does not give are absent. */
export interface GpuInfo {
  name: string
  vendor?: string
  util?: number
  memTotalMb?: number
  memUsedMb?: number
  memFreeMb?: number
  /** PCI bus id, when known. */
  bus?: string
  /** Which tool described it. */
  source: 'systeminformation' | 'nvidia-smi'
}

export interface GpuState {
  gpus: GpuInfo[]
  /** Display adapters that are not compute GPUs (BMC, virtual VGA), by name: shown, not counted. */
  ignored: string[]
  /** Set when `gpus` is empty: why. */
  absence?: Absence
}

/** CPU and memory, sampled cheaply every few seconds. */
export interface LoadSample {
  /** CPU use, percent of all cores, over the last sampling interval. */
  cpu: number
  /** Memory in use, percent (total minus available). */
  mem: number
  memTotalMb: number
  /** Memory available to new processes (Linux `MemAvailable`), in MiB. */
  memFreeMb: number
  /** When it was sampled, ms since the epoch. */
  at: number
}

/** Everything the detector knows, with absences and their reasons. */
export interface CapabilitySnapshot {
  nodeId: string
  name?: string
  status: PeerStatus
  slotsFree?: number
  slotsTotal?: number
  load: LoadSample
  gpus: GpuState
  ollama: OllamaState
  clis: CliState[]
  /** When the slow probes last completed, ms since the epoch (0 before the first). */
  probedAt: number
}
