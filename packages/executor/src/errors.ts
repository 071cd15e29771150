// One error class per failure, each with a `name`, a `code` and its data. None carries a token:
// git's arguments never hold one, and stderr is redacted by the caller's `redact`.

export type ExecutorErrorCode =
  | 'ERR_EXECUTOR_CONFIG'
  | 'ERR_EXECUTOR_GIT'
  | 'ERR_EXECUTOR_SPAWN'
  | 'ERR_EXECUTOR_SANDBOX'
  | 'ERR_EXECUTOR_OUTCOME_FILE'

export class ExecutorError extends Error {
  readonly code: ExecutorErrorCode
  constructor (code: ExecutorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ExecutorError'
    this.code = code
  }
}

/** The executor was configured wrongly (e.g. a token-like variable in the agent's environment). */
export class ExecutorConfigError extends ExecutorError {
  constructor (message: string) {
    super('ERR_EXECUTOR_CONFIG', message)
    this.name = 'ExecutorConfigError'
  }
}

/** A git command failed. `args` never holds credentials (they travel in the environment). */
export class GitCommandError extends ExecutorError {
  readonly args: readonly string[]
  readonly exitCode: number | null
  readonly stderr: string
  constructor (args: readonly string[], exitCode: number | null, stderr: string) {
    super('ERR_EXECUTOR_GIT', `git ${args.slice(0, 3).join(' ')} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 500)}`)
    this.name = 'GitCommandError'
    this.args = args
    this.exitCode = exitCode
    this.stderr = stderr
  }
}

/** The agent's process could not be started. */
export class AgentSpawnError extends ExecutorError {
  readonly file: string
  constructor (file: string, cause: unknown) {
    super('ERR_EXECUTOR_SPAWN', `could not start ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'AgentSpawnError'
    this.file = file
  }
}

/** The sandbox was asked for and cannot be used here. */
export class SandboxUnavailableError extends ExecutorError {
  readonly tool: string
  constructor (tool: string, detail: string) {
    super('ERR_EXECUTOR_SANDBOX', `${tool} cannot be used: ${detail}`)
    this.name = 'SandboxUnavailableError'
    this.tool = tool
  }
}

/** The agent's `.bzzz/outcome.json` is not valid JSON or does not match the schema. */
export class OutcomeFileError extends ExecutorError {
  readonly path: string
  readonly problems: readonly string[]
  constructor (path: string, problems: readonly string[]) {
    super('ERR_EXECUTOR_OUTCOME_FILE', `${path}: ${problems.slice(0, 5).join('; ')}`)
    this.name = 'OutcomeFileError'
    this.path = path
    this.problems = problems
  }
}
