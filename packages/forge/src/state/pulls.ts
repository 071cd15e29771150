/** Pull requests: creation, edits, heads that follow pushes, lists. */
import { ApiError, notFound, validationFailed } from '../errors.js'
import { asString, atLeast, record } from './records.js'
import type { IssueRecord, NewPull, PullRecord, RepoRecord } from './records.js'
import { CommentsState } from './comments.js'

export class PullsState extends CommentsState {
  headLabel (p: PullRecord): string {
    return `${this.repoByKey(p.headRepo).owner}:${p.headRef}`
  }

  protected checkNoDuplicatePull (repo: RepoRecord, p: Pick<PullRecord, 'headRepo' | 'headRef' | 'baseRef'>, except?: number): void {
    for (const i of repo.issues.values()) {
      if (i.number === except || i.state !== 'open' || i.pull == null) continue
      if (i.pull.headRepo === p.headRepo && i.pull.headRef === p.headRef && i.pull.baseRef === p.baseRef) {
        throw validationFailed({ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${this.repoByKey(p.headRepo).owner}:${p.headRef}.` })
      }
    }
  }

  /** Validate a new pull request without creating it (the git checks happen in between). */
  checkPull (repo: RepoRecord, input: Pick<NewPull, 'headRepo' | 'headRef' | 'baseRef'>): void {
    this.checkNoDuplicatePull(repo, { headRepo: input.headRepo.key, headRef: input.headRef, baseRef: input.baseRef })
  }

  createPull (repo: RepoRecord, actor: string, input: NewPull): IssueRecord {
    if (input.title === '') throw validationFailed({ resource: 'PullRequest', field: 'title', code: 'missing_field' })
    this.checkPull(repo, input)
    const now = this.now()
    const issue: IssueRecord = {
      id: this.nextId.issue++,
      number: repo.nextNumber++,
      title: input.title,
      body: input.body,
      author: this.userOrThrow(actor).login,
      state: 'open',
      stateReason: null,
      labels: [],
      assignees: [],
      comments: 0,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      closedBy: null,
      pull: {
        headRepo: input.headRepo.key,
        headRef: input.headRef,
        headSha: input.headSha,
        baseRef: input.baseRef,
        baseSha: input.baseSha,
        draft: input.draft,
        maintainerCanModify: input.maintainerCanModify,
        merged: false
      },
      versions: []
    }
    repo.issues.set(issue.number, issue)
    repo.updatedAt = now
    record(issue, now)
    return issue
  }

  pull (repo: RepoRecord, number: number): IssueRecord & { pull: PullRecord } {
    const i = this.issue(repo, number)
    if (i.pull == null) throw notFound()
    return i as IssueRecord & { pull: PullRecord }
  }

  updatePull (repo: RepoRecord, actor: string, number: number, patch: { title?: unknown, body?: unknown, state?: unknown, base?: unknown }): IssueRecord {
    const pr = this.pull(repo, number)
    if (patch.base !== undefined) {
      const base = asString(patch.base)
      if (base == null || !repo.branches.has(base)) throw validationFailed({ resource: 'PullRequest', field: 'base', code: 'invalid' })
      if (!atLeast(this.permission(repo, actor), 'write') && pr.author.toLowerCase() !== actor.toLowerCase()) {
        throw new ApiError(403, 'Resource not accessible by personal access token')
      }
      this.checkNoDuplicatePull(repo, { ...pr.pull, baseRef: base }, pr.number)
      pr.pull.baseRef = base
      pr.pull.baseSha = repo.branches.get(base) ?? pr.pull.baseSha
    }
    return this.updateIssue(repo, actor, number, { title: patch.title, body: patch.body, state: patch.state })
  }

  /** Open pull requests whose head is `ref` of `headRepo` (to follow pushes). */
  pullsWithHead (headRepo: RepoRecord, ref: string): Array<{ repo: RepoRecord, issue: IssueRecord & { pull: PullRecord } }> {
    const out: Array<{ repo: RepoRecord, issue: IssueRecord & { pull: PullRecord } }> = []
    for (const repo of this.repos.values()) {
      if (repo.source !== headRepo.source) continue
      for (const i of repo.issues.values()) {
        if (i.pull != null && i.state === 'open' && i.pull.headRepo === headRepo.key && i.pull.headRef === ref) {
          out.push({ repo, issue: i as IssueRecord & { pull: PullRecord } })
        }
      }
    }
    return out
  }

  /** Record a new head sha for a pull request (after a push to its head branch). */
  setPullHead (repo: RepoRecord, number: number, sha: string): IssueRecord {
    const pr = this.pull(repo, number)
    pr.pull.headSha = sha
    this.touch(repo, pr, this.now())
    return pr
  }

  listPulls (repo: RepoRecord, f: { state?: 'open' | 'closed' | 'all', head?: string, base?: string, sort?: 'created' | 'updated', direction?: 'asc' | 'desc' } = {}, at?: number): IssueRecord[] {
    const list = this.listIssues(repo, {
      kind: 'pull', state: f.state ?? 'open', sort: f.sort ?? 'created', direction: f.direction ?? 'desc'
    }, at)
    return list.filter((i) => {
      const p = i.pull
      if (p == null) return false
      if (f.base != null && p.baseRef !== f.base) return false
      if (f.head != null) {
        const [owner, ref] = f.head.includes(':') ? f.head.split(':', 2) as [string, string] : [f.head, undefined]
        const headRepo = this.repos.get(p.headRepo)
        if (headRepo?.owner.toLowerCase() !== owner.toLowerCase()) return false
        if (ref != null && p.headRef !== ref) return false
      }
      return true
    })
  }
}
