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
  FenceUnconfirmedError,
  ForkNotReadyError,
  ListingError,
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
  landedLate,
  brokenIds,
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
  type StatusLabels,
  type FencePass,
  type Clock,
  systemClock
} from './claimer.js'
export {
  step as claimStep,
  initialState as claimInitialState,
  isFinal as isFinalClaimState,
  publishWait,
  chainWait,
  chainBounds,
  extendChain,
  type Chain,
  type HandleState,
  type HandleEvent,
  type MachineConfig,
  type LostReason,
  type OwnComment
} from './claim-machine.js'
export { listIssueComments, type CommentsRead, type ListInit } from './listing.js'
export { resultInComments, resultInPulls, type FoundResult } from './result.js'
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
