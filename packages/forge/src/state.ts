/**
 * The forge's state model: users, organisations, repositories, issues, pull requests,
 * comments, labels and forks, with GitHub's rules for who may change what. Pure logic:
 * no I/O, the clock is injected, every refusal is an `ApiError` carrying the status and
 * message GitHub would answer with. The HTTP layer (forge.ts, routes/) and the git layer
 * (git.ts) sit on top of it. One file per resource under state/, each a layer of the class.
 */
import { PullsState } from './state/pulls.js'

export { atLeast, repoKey, viewAt } from './state/records.js'
export type {
  AuthorAssociation, CommentRecord, IssueFilter, IssuePatch, IssueRecord, LabelRecord, NewIssue, NewPull, OrgRecord,
  Permission, PullRecord, RepoRecord, StateInit, UserRecord, Version
} from './state/records.js'

/** The whole state model: accounts, repositories, labels, issues, comments and pull requests. */
export class ForgeState extends PullsState {}
