export type CapabilitiesErrorCode = 'ERR_INVALID_OPTIONS' | 'ERR_INVALID_ARGUMENT' | 'ERR_DETECTOR_STOPPED'

/** Base class of every error this package throws. Absent models, GPUs or CLIs are not errors. */
export class CapabilitiesError extends Error {
  readonly code: CapabilitiesErrorCode
  constructor (code: CapabilitiesErrorCode, message: string) {
    super(message)
    this.name = 'CapabilitiesError'
    this.code = code
  }
}

/** An option given to `createCapabilityDetector` is out of range or malformed. */
export class InvalidOptionsError extends CapabilitiesError {
  /** The option at fault, e.g. `nodeId`, `clis[2].name`. */
  readonly option: string
  constructor (option: string, reason: string) {
    super('ERR_INVALID_OPTIONS', `invalid option ${option}: ${reason}`)
    this.name = 'InvalidOptionsError'
    this.option = option
  }
}

/** An argument of a method (`setStatus`, `setSlots`, …) is out of range. */
export class InvalidArgumentError extends CapabilitiesError {
  readonly argument: string
  readonly value: unknown
  constructor (argument: string, value: unknown, reason: string) {
    super('ERR_INVALID_ARGUMENT', `invalid ${argument}: ${reason}`)
    this.name = 'InvalidArgumentError'
    this.argument = argument
    this.value = value
  }
}

/** `start` was called on a detector that has been stopped; make a new one instead. */
export class DetectorStoppedError extends CapabilitiesError {
  constructor () {
    super('ERR_DETECTOR_STOPPED', 'the capability detector has been stopped')
    this.name = 'DetectorStoppedError'
  }
}
