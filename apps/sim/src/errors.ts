/** Base class of every error the simulation raises; `code` names the failure. */
export type SimErrorCode = 'ERR_SIM_SCENARIO' | 'ERR_SIM_NODE' | 'ERR_SIM_ARGUMENT' | 'ERR_SIM_NETNS' | 'ERR_SIM_FORGE'

export class SimError extends Error {
  readonly code: SimErrorCode
  constructor (code: SimErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'SimError'
    this.code = code
  }
}

export interface ScenarioIssue {
  /** JSON pointer of the value found wrong (`/faults/0/kind`). */
  path: string
  message: string
}

/** A scenario file that is not YAML/JSON, or does not match the schema; names each wrong path. */
export class ScenarioError extends SimError {
  readonly file: string | undefined
  readonly issues: ScenarioIssue[]
  constructor (file: string | undefined, issues: ScenarioIssue[]) {
    super('ERR_SIM_SCENARIO', `${file ?? 'scenario'}: ${issues.map((i) => `${i.path === '' ? '/' : i.path} ${i.message}`).join('; ')}`)
    this.name = 'ScenarioError'
    this.file = file
    this.issues = issues
  }
}

/** A command-line option with a value it cannot take. */
export class ArgumentError extends SimError {
  readonly option: string
  constructor (option: string, message: string) {
    super('ERR_SIM_ARGUMENT', `${option}: ${message}`)
    this.name = 'ArgumentError'
    this.option = option
  }
}

/** A node could not be started or stopped. */
export class NodeError extends SimError {
  readonly peer: string
  constructor (peer: string, message: string, options?: ErrorOptions) {
    super('ERR_SIM_NODE', `${peer}: ${message}`, options)
    this.name = 'NodeError'
    this.peer = peer
  }
}

/** The network namespaces of `transport: netns` could not be made (not root, no `ip`, a command failed). */
export class NetnsError extends SimError {
  constructor (message: string, options?: ErrorOptions) {
    super('ERR_SIM_NETNS', message, options)
    this.name = 'NetnsError'
  }
}

/** The forge's process could not start, or stopped answering (it exited). */
export class ForgeProcessError extends SimError {
  constructor (message: string, options?: ErrorOptions) {
    super('ERR_SIM_FORGE', `forge: ${message}`, options)
    this.name = 'ForgeProcessError'
  }
}
