// One error class per failure the command line explains in one line (no stack trace).

/** The base: `bzzz` prints `message` and exits non-zero. */
export class PeerError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.name = 'PeerError'
    this.code = code
  }
}

export interface ConfigIssue {
  /** Dotted path of the setting, e.g. `http.port`. */
  path: string
  /** What was expected there. */
  expected: string
}

/** The configuration (file or environment) has invalid settings; each issue names one. */
export class ConfigInvalidError extends PeerError {
  readonly issues: ConfigIssue[]
  readonly source: string
  constructor (source: string, issues: ConfigIssue[]) {
    super('ERR_CONFIG_INVALID', `${source}: ${issues.map((i) => `${i.path === '' ? '(top level)' : i.path}: ${i.expected}`).join('; ')}`)
    this.name = 'ConfigInvalidError'
    this.issues = issues
    this.source = source
  }
}

/** The configuration file cannot be read or is not YAML. */
export class ConfigFileError extends PeerError {
  readonly path: string
  constructor (path: string, reason: string) {
    super('ERR_CONFIG_FILE', `configuration ${path}: ${reason}`)
    this.name = 'ConfigFileError'
    this.path = path
  }
}

/** A secret file (token, key) is readable by group or others. */
export class SecretPermissionsError extends PeerError {
  readonly path: string
  readonly mode: number
  constructor (path: string, mode: number) {
    super('ERR_SECRET_PERMISSIONS', `${path} is readable by others (mode ${(mode & 0o777).toString(8)}): run chmod 600 ${path}`)
    this.name = 'SecretPermissionsError'
    this.path = path
    this.mode = mode
  }
}

/** No GitHub token was found. */
export class MissingTokenError extends PeerError {
  constructor (where: string) {
    super('ERR_MISSING_TOKEN', `no GitHub token: ${where}`)
    this.name = 'MissingTokenError'
  }
}

/** The forge (GitHub) did not answer, or refused the token. */
export class ForgeUnreachableError extends PeerError {
  readonly url: string
  constructor (url: string, reason: string) {
    super('ERR_FORGE_UNREACHABLE', `cannot reach GitHub at ${url}: ${reason}`)
    this.name = 'ForgeUnreachableError'
    this.url = url
  }
}

/** A port the daemon needs is taken. */
export class PortInUseError extends PeerError {
  readonly address: string
  constructor (address: string) {
    super('ERR_PORT_IN_USE', `${address} is already in use (another bzzz running?): pick another port in the configuration`)
    this.name = 'PortInUseError'
    this.address = address
  }
}

/** `init` would overwrite something. */
export class AlreadyInitialisedError extends PeerError {
  readonly path: string
  constructor (path: string) {
    super('ERR_ALREADY_INITIALISED', `${path} already exists: refusing to overwrite it`)
    this.name = 'AlreadyInitialisedError'
    this.path = path
  }
}

/** The local daemon's HTTP interface did not answer. */
export class DaemonUnreachableError extends PeerError {
  readonly url: string
  constructor (url: string, reason: string) {
    super('ERR_DAEMON_UNREACHABLE', `no bzzz daemon answers at ${url} (${reason}): is \`bzzz start\` running?`)
    this.name = 'DaemonUnreachableError'
    this.url = url
  }
}

/** `bzzz task run`: the issue (or its repository) given cannot be told apart. */
export class TaskArgumentError extends PeerError {
  readonly argument: string
  constructor (argument: string, expected: string) {
    super('ERR_TASK_ARGUMENT', `${argument}: ${expected}`)
    this.name = 'TaskArgumentError'
    this.argument = argument
  }
}
