export type GitHubErrorCode =
  | 'ERR_TOKEN'
  | 'ERR_GITHUB_REQUEST'
  | 'ERR_RATE_LIMITED'
  | 'ERR_CLAIM_LOST'
  | 'ERR_FORK_NOT_READY'
  | 'ERR_FENCE_UNCONFIRMED'
  | 'ERR_CONFIG'
  | 'ERR_LISTING'

/**
 * Base class of every error this package throws. None of them carries a token, a request's
 * headers or the original Octokit error (whose request object holds the `authorization` header).
 */
export class GitHubError extends Error {
  readonly code: GitHubErrorCode
  constructor (code: GitHubErrorCode, message: string) {
    super(message)
    this.name = 'GitHubError'
    this.code = code
  }
}

/** No usable token in the configured source; `source` says where it was looked for. */
export class TokenError extends GitHubError {
  readonly source: string
  constructor (message: string, source: string) {
    super('ERR_TOKEN', message)
    this.name = 'TokenError'
    this.source = source
  }
}

/** The configuration is invalid (a bad repository name, an impossible lease). */
export class ConfigError extends GitHubError {
  constructor (message: string) {
    super('ERR_CONFIG', message)
    this.name = 'ConfigError'
  }
}

export interface RequestErrorData {
  /** HTTP status; 0 when no answer came (network error, timeout). */
  status: number
  method: string
  /** The route template, e.g. `POST /repos/{owner}/{repo}/issues/{issue_number}/comments`. */
  route: string
  /** GitHub's `x-github-request-id`, for support requests. */
  requestId?: string | undefined
  /** GitHub's own message (`Validation Failed`, `Not Found`), redacted. */
  detail?: string | undefined
}

/** A request failed after Octokit's retries and throttling gave up. */
export class GitHubRequestError extends GitHubError {
  readonly status: number
  readonly method: string
  readonly route: string
  readonly requestId: string | undefined
  readonly detail: string | undefined
  constructor (data: RequestErrorData, code: GitHubErrorCode = 'ERR_GITHUB_REQUEST') {
    const detail = data.detail !== undefined && data.detail !== '' ? `: ${data.detail}` : ''
    super(code, `${data.route} failed with ${data.status === 0 ? 'no answer' : `status ${data.status}`}${detail}`)
    this.name = 'GitHubRequestError'
    this.status = data.status
    this.method = data.method
    this.route = data.route
    this.requestId = data.requestId
    this.detail = data.detail
  }

  /** True when the request may have been applied although no success answer came (5xx, no answer). */
  get ambiguous (): boolean {
    return this.status === 0 || this.status >= 500
  }
}

/** The primary or secondary rate limit refused the request and waiting was not allowed (or did not help). */
export class RateLimitError extends GitHubRequestError {
  /** Seconds GitHub asked us to wait, when it said. */
  readonly retryAfter: number | undefined
  readonly secondary: boolean
  constructor (data: RequestErrorData, retryAfter: number | undefined, secondary: boolean) {
    super(data, 'ERR_RATE_LIMITED')
    this.name = 'RateLimitError'
    this.retryAfter = retryAfter
    this.secondary = secondary
  }
}

/** Fencing: the holder no longer holds the issue's claim, so it must not publish. */
export class ClaimLostError extends GitHubError {
  readonly repo: string
  readonly issue: number
  readonly claimId: number
  readonly reason: 'expired' | 'withdrawn' | 'superseded' | 'deleted' | 'completed' | 'held' | 'broken' | 'aborted' | 'unanswered' | 'step-overran'
  constructor (repo: string, issue: number, claimId: number, reason: ClaimLostError['reason']) {
    super('ERR_CLAIM_LOST', `claim ${claimId} on ${repo}#${issue} no longer holds (${reason})`)
    this.name = 'ClaimLostError'
    this.repo = repo
    this.issue = issue
    this.claimId = claimId
    this.reason = reason
  }
}

/**
 * A fence could not confirm the claim: its reads did not chain (too slow, failing, or cut by
 * the claim's own writes), so it cannot tell that no break or lower claim came and went
 * unseen. The claim may still hold; the step must not start (fence again later, or give up).
 */
export class FenceUnconfirmedError extends GitHubError {
  readonly repo: string
  readonly issue: number
  readonly claimId: number
  readonly waitedMs: number
  constructor (repo: string, issue: number, claimId: number, waitedMs: number) {
    super('ERR_FENCE_UNCONFIRMED', `claim ${claimId} on ${repo}#${issue}: the fence's reads did not chain in ${Math.round(waitedMs)} ms`)
    this.name = 'FenceUnconfirmedError'
    this.repo = repo
    this.issue = issue
    this.claimId = claimId
    this.waitedMs = waitedMs
  }
}

/** The fork's git objects did not appear in time. */
export class ForkNotReadyError extends GitHubError {
  readonly fork: string
  readonly waitedMs: number
  constructor (fork: string, waitedMs: number) {
    super('ERR_FORK_NOT_READY', `fork ${fork} was not ready after ${waitedMs} ms`)
    this.name = 'ForkNotReadyError'
    this.fork = fork
    this.waitedMs = waitedMs
  }
}

/**
 * An issue's comments could not be read completely: more pages than the cap (`cap`), or the
 * list kept moving under the read (`moving`). Claims fail closed on it: nothing is decided.
 */
export class ListingError extends GitHubError {
  readonly issue: number
  readonly reason: 'cap' | 'moving'
  readonly limit: number
  constructor (issue: number, cause: 'cap' | 'moving', limit: number) {
    super('ERR_LISTING', cause === 'cap' ? `issue #${issue} has more than ${limit} pages of comments` : `the comments of issue #${issue} kept changing over ${limit} reads`)
    this.name = 'ListingError'
    this.issue = issue
    this.reason = cause
    this.limit = limit
  }
}
