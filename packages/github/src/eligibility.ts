import { createHash } from 'node:crypto'

/** The fields of a GitHub issue (from the REST list or a webhook payload) the watcher reads. */
export interface IssueLike {
  number: number
  title: string
  body?: string | null | undefined
  state: string
  labels: ReadonlyArray<string | { name?: string | null | undefined }>
  pull_request?: unknown
  author_association?: string | undefined
  user?: { login: string } | null | undefined
  html_url: string
  updated_at: string
}

export interface EligibilityInit {
  /** The label that marks an issue as a Bzzz task. Default `bzzz`. */
  label?: string
  /** Trusted `author_association` values. Default OWNER, MEMBER, COLLABORATOR. */
  trustedAssociations?: readonly string[]
  /** Further logins trusted whatever their association. */
  trustedAuthors?: readonly string[]
  /** Labels that take an issue out (finished work). Default `bzzz:done`, `bzzz:failed`. */
  excludeLabels?: readonly string[]
}

export interface Eligibility {
  label: string
  trustedAssociations: ReadonlySet<string>
  trustedAuthors: ReadonlySet<string>
  excludeLabels: ReadonlySet<string>
}

export const DEFAULT_TRUSTED_ASSOCIATIONS = ['OWNER', 'MEMBER', 'COLLABORATOR'] as const

export function eligibility (init: EligibilityInit = {}): Eligibility {
  return {
    label: (init.label ?? 'bzzz').toLowerCase(),
    trustedAssociations: new Set((init.trustedAssociations ?? DEFAULT_TRUSTED_ASSOCIATIONS).map((a) => a.toUpperCase())),
    trustedAuthors: new Set((init.trustedAuthors ?? []).map((a) => a.toLowerCase())),
    excludeLabels: new Set((init.excludeLabels ?? ['bzzz:done', 'bzzz:failed']).map((l) => l.toLowerCase()))
  }
}

export function labelNames (issue: Pick<IssueLike, 'labels'>): string[] {
  return issue.labels.map((l) => typeof l === 'string' ? l : (l.name ?? '')).filter((n) => n !== '')
}

export type IneligibleReason = 'closed' | 'pull_request' | 'unlabelled' | 'untrusted_author' | 'excluded'

/**
 * Whether an issue is a task: open, not a pull request, carrying the label, not excluded, and
 * opened by a trusted author (its body becomes an agent's instructions).
 */
export function checkEligible (issue: IssueLike, e: Eligibility): { eligible: true } | { eligible: false, reason: IneligibleReason } {
  if (issue.state !== 'open') return { eligible: false, reason: 'closed' }
  if (issue.pull_request !== undefined && issue.pull_request !== null) return { eligible: false, reason: 'pull_request' }
  const labels = labelNames(issue).map((l) => l.toLowerCase())
  if (!labels.includes(e.label)) return { eligible: false, reason: 'unlabelled' }
  if (labels.some((l) => e.excludeLabels.has(l))) return { eligible: false, reason: 'excluded' }
  const assoc = (issue.author_association ?? '').toUpperCase()
  const login = (issue.user?.login ?? '').toLowerCase()
  if (!e.trustedAssociations.has(assoc) && !(login !== '' && e.trustedAuthors.has(login))) return { eligible: false, reason: 'untrusted_author' }
  return { eligible: true }
}

export function isEligible (issue: IssueLike, e: Eligibility): boolean {
  return checkEligible(issue, e).eligible
}

/** A content revision: changes when the title or body (the agent's instructions) change, not on comments. */
export function issueRevision (issue: Pick<IssueLike, 'title' | 'body'>): string {
  return createHash('sha256').update(issue.title).update('\0').update(issue.body ?? '').digest('hex').slice(0, 16)
}

/** What the watcher remembers of an issue it has seen. */
export interface KnownIssue {
  revision: string
  updatedAt: string
  /** Whether it is currently announced as a task (opened and not withdrawn). */
  announced: boolean
}

export interface IssueChange {
  action: 'open' | 'update' | 'withdraw'
  issue: IssueLike
  revision: string
  reason?: IneligibleReason
}

/**
 * Folds one observation of an issue into the watcher's memory, returning the change to announce
 * (if any). Idempotent: observing the same issue twice yields nothing the second time; an
 * observation older (by `updated_at`) than the one remembered is ignored, so a lagging list or a
 * late webhook cannot undo a newer state.
 */
export function observeIssue (known: Map<number, KnownIssue>, issue: IssueLike, e: Eligibility): IssueChange | undefined {
  const prev = known.get(issue.number)
  const at = Date.parse(issue.updated_at)
  if (prev !== undefined && at < Date.parse(prev.updatedAt)) return undefined
  const check = checkEligible(issue, e)
  const revision = issueRevision(issue)
  known.set(issue.number, { revision, updatedAt: issue.updated_at, announced: check.eligible })
  if (!check.eligible) {
    return prev?.announced === true ? { action: 'withdraw', issue, revision, reason: check.reason } : undefined
  }
  if (prev?.announced !== true) return { action: 'open', issue, revision }
  if (prev.revision !== revision) return { action: 'update', issue, revision }
  return undefined
}
