export {
  createGitHubClient,
  type GitHubClient,
  type GitHubClientInit,
  type ThrottleInit,
  type RetryInit,
  type RequestCounts,
  type CallOptions,
  type ApiResponse,
  type Logger
} from './client.js'
export { tokenFromFile, tokenFromEnv, resolveToken, redact, type TokenSource } from './token.js'
export {
  GitHubError,
  TokenError,
  ConfigError,
  GitHubRequestError,
  RateLimitError,
  ClaimLostError,
  ForkNotReadyError,
  type GitHubErrorCode,
  type RequestErrorData
} from './errors.js'
export {
  CLAIM_MARKER_VERSION,
  formatClaimBody,
  parseClaimMarker,
  parseClaims,
  decide,
  standing,
  isLive,
  holderValid,
  renewalWasLate,
  type ClaimMarker,
  type ClaimState,
  type ClaimComment,
  type Claim,
  type DecideInput,
  type Decision,
  type Standing
} from './claim.js'
export {
  createClaimer,
  type Claimer,
  type ClaimerInit,
  type ClaimOptions,
  type ClaimOutcome,
  type ClaimHandle,
  type StatusLabels
} from './claimer.js'
export {
  eligibility,
  checkEligible,
  isEligible,
  issueRevision,
  observeIssue,
  labelNames,
  DEFAULT_TRUSTED_ASSOCIATIONS,
  type Eligibility,
  type EligibilityInit,
  type IssueLike,
  type IssueChange,
  type KnownIssue,
  type IneligibleReason
} from './eligibility.js'
export { createWatcher, type Watcher, type WatcherInit, type WatcherEvents, type WebhookReceiver } from './watcher.js'
export {
  createPublisher,
  taskResultMessage,
  type Publisher,
  type PublisherInit,
  type ForkInfo,
  type PullRequestInit,
  type Published,
  type FailureReport
} from './publish.js'
