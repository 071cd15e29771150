/** One entry of a GitHub 422 `errors` array. */
export interface ValidationIssue {
  resource: string
  field?: string
  code: 'missing' | 'missing_field' | 'invalid' | 'already_exists' | 'unprocessable' | 'custom'
  message?: string
}

export type ForgeErrorCode =
  | 'ERR_API'
  | 'ERR_SEED'
  | 'ERR_GIT'

/** Base class of every error the forge throws. */
export class ForgeError extends Error {
  readonly code: ForgeErrorCode
  constructor (code: ForgeErrorCode, message: string) {
    super(message)
    this.name = 'ForgeError'
    this.code = code
  }
}

/**
 * A request the forge refuses, exactly as GitHub would answer it: `status` and the JSON
 * `message` (and, for 422, `errors`). The state model throws these; the HTTP layer turns
 * them into responses.
 */
export class ApiError extends ForgeError {
  readonly status: number
  readonly errors?: ValidationIssue[]
  readonly headers: Record<string, string>
  constructor (status: number, message: string, errors?: ValidationIssue[], headers: Record<string, string> = {}) {
    super('ERR_API', message)
    this.name = 'ApiError'
    this.status = status
    if (errors != null) this.errors = errors
    this.headers = headers
  }
}

/** The seed given to `createForge` is inconsistent (unknown owner, duplicate token, …). */
export class SeedError extends ForgeError {
  constructor (message: string) {
    super('ERR_SEED', message)
    this.name = 'SeedError'
  }
}

/** A git subprocess failed. `args` is the git command line (no secrets are ever on it). */
export class GitError extends ForgeError {
  readonly args: string[]
  readonly exitCode: number | null
  readonly stderr: string
  constructor (args: string[], exitCode: number | null, stderr: string) {
    super('ERR_GIT', `git ${args.join(' ')} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim().slice(0, 500)}`)
    this.name = 'GitError'
    this.args = args
    this.exitCode = exitCode
    this.stderr = stderr
  }
}

export const notFound = (): ApiError => new ApiError(404, 'Not Found')
export const validationFailed = (...errors: ValidationIssue[]): ApiError => new ApiError(422, 'Validation Failed', errors)
