/** Issues (pull requests are issues too): creation, edits, assignees, labels, lists. */
import { ApiError, notFound, validationFailed } from '../errors.js'
import { asString, atLeast, labelNames, loginList, MAX_ASSIGNEES, record, sec, viewAt } from './records.js'
import type { IssueFilter, IssuePatch, IssueRecord, LabelRecord, NewIssue, PullRecord, RepoRecord } from './records.js'
import { LabelsState } from './labels.js'

export abstract class IssuesState extends LabelsState {
  /** Refuses a second open pull request with the same head and base (pulls.ts). */
  protected abstract checkNoDuplicatePull (repo: RepoRecord, p: Pick<PullRecord, 'headRepo' | 'headRef' | 'baseRef'>, except?: number): void

  issue (repo: RepoRecord, number: number): IssueRecord {
    const i = repo.issues.get(number)
    if (i == null) throw notFound()
    return i
  }

  protected touch (repo: RepoRecord, issue: IssueRecord, now: number): void {
    issue.updatedAt = now
    repo.updatedAt = now
    record(issue, now)
  }

  /** `privileged` skips the permission rules (for seeding). */
  createIssue (repo: RepoRecord, actor: string, input: NewIssue, privileged = false): IssueRecord {
    if (!repo.hasIssues) throw new ApiError(410, 'Issues are disabled for this repo')
    const title = asString(input.title) ?? (typeof input.title === 'number' ? String(input.title) : undefined)
    if (title == null || title === '') throw validationFailed({ resource: 'Issue', field: 'title', code: 'missing_field' })
    const body = input.body == null ? null : asString(input.body)
    if (body === undefined) throw validationFailed({ resource: 'Issue', field: 'body', code: 'invalid' })
    const canTriage = privileged || atLeast(this.permission(repo, actor), 'triage')
    const names = labelNames(input.labels)
    const wanted = [...loginList(input.assignees, 'assignees'), ...(typeof input.assignee === 'string' ? [input.assignee] : [])]
    const now = this.now()
    const issue: IssueRecord = {
      id: this.nextId.issue++,
      number: repo.nextNumber++,
      title,
      body,
      author: this.userOrThrow(actor).login,
      state: 'open',
      stateReason: null,
      labels: canTriage ? this.ensureLabels(repo, names) : [],
      assignees: canTriage ? this.filterAssignees(repo, [], wanted) : [],
      comments: 0,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      closedBy: null,
      pull: null,
      versions: []
    }
    repo.issues.set(issue.number, issue)
    repo.updatedAt = now
    record(issue, now)
    return issue
  }

  protected filterAssignees (repo: RepoRecord, existing: string[], wanted: string[]): string[] {
    const out = [...existing]
    for (const w of wanted) {
      if (out.length >= MAX_ASSIGNEES) break
      if (!this.assignable(repo, w)) continue
      const login = this.user(w)?.login ?? w
      if (!out.some((o) => o.toLowerCase() === login.toLowerCase())) out.push(login)
    }
    return out
  }

  updateIssue (repo: RepoRecord, actor: string, number: number, patch: IssuePatch, privileged = false): IssueRecord {
    const issue = this.issue(repo, number)
    const perm = privileged ? 'admin' : this.permission(repo, actor)
    const isAuthor = issue.author.toLowerCase() === actor.toLowerCase()
    const canTriage = atLeast(perm, 'triage')
    if (!canTriage && !isAuthor) throw new ApiError(403, 'Resource not accessible by personal access token')
    const next = { ...issue }
    if (patch.title !== undefined) {
      const t = asString(patch.title)
      if (t == null || t === '') throw validationFailed({ resource: 'Issue', field: 'title', code: 'missing_field' })
      next.title = t
    }
    if (patch.body !== undefined) {
      const b = patch.body === null ? null : asString(patch.body)
      if (b === undefined) throw validationFailed({ resource: 'Issue', field: 'body', code: 'invalid' })
      next.body = b
    }
    if (patch.state !== undefined) {
      if (patch.state !== 'open' && patch.state !== 'closed') throw validationFailed({ resource: 'Issue', field: 'state', code: 'invalid' })
      const reason = patch.state_reason
      if (reason != null && reason !== 'completed' && reason !== 'not_planned' && reason !== 'reopened') {
        throw validationFailed({ resource: 'Issue', field: 'state_reason', code: 'invalid' })
      }
      if (patch.state === 'closed' && issue.state === 'open') {
        next.state = 'closed'
        next.closedAt = this.now()
        next.closedBy = this.userOrThrow(actor).login
        next.stateReason = reason === 'not_planned' ? 'not_planned' : 'completed'
      } else if (patch.state === 'open' && issue.state === 'closed') {
        if (issue.pull != null) this.checkNoDuplicatePull(repo, issue.pull, issue.number)
        next.state = 'open'
        next.closedAt = null
        next.closedBy = null
        next.stateReason = 'reopened'
      }
    }
    // Labels and assignees in a PATCH replace the whole list; without triage they are ignored.
    if (canTriage && patch.labels !== undefined) next.labels = patch.labels === null ? [] : this.ensureLabels(repo, labelNames(patch.labels))
    if (canTriage && (patch.assignees !== undefined || patch.assignee !== undefined)) {
      const wanted = patch.assignees !== undefined
        ? loginList(patch.assignees, 'assignees')
        : (typeof patch.assignee === 'string' ? [patch.assignee] : [])
      next.assignees = this.filterAssignees(repo, [], wanted)
    }
    Object.assign(issue, next)
    this.touch(repo, issue, this.now())
    return issue
  }

  addAssignees (repo: RepoRecord, actor: string, number: number, logins: unknown): IssueRecord {
    const issue = this.issue(repo, number)
    const wanted = loginList(logins, 'assignees')
    if (atLeast(this.permission(repo, actor), 'triage')) {
      const next = this.filterAssignees(repo, issue.assignees, wanted)
      if (next.length !== issue.assignees.length) {
        issue.assignees = next
        this.touch(repo, issue, this.now())
      }
    }
    return issue
  }

  removeAssignees (repo: RepoRecord, actor: string, number: number, logins: unknown): IssueRecord {
    const issue = this.issue(repo, number)
    const drop = new Set(loginList(logins, 'assignees').map((l) => l.toLowerCase()))
    if (atLeast(this.permission(repo, actor), 'triage')) {
      const next = issue.assignees.filter((a) => !drop.has(a.toLowerCase()))
      if (next.length !== issue.assignees.length) {
        issue.assignees = next
        this.touch(repo, issue, this.now())
      }
    }
    return issue
  }

  addLabels (repo: RepoRecord, actor: string, number: number, names: unknown): LabelRecord[] {
    const issue = this.issue(repo, number)
    this.requireWrite(repo, actor, 'triage')
    const ids = this.ensureLabels(repo, labelNames(names))
    const next = [...issue.labels, ...ids.filter((id) => !issue.labels.includes(id))]
    if (next.length !== issue.labels.length) {
      issue.labels = next
      this.touch(repo, issue, this.now())
    }
    return this.issueLabels(repo, issue)
  }

  setLabels (repo: RepoRecord, actor: string, number: number, names: unknown): LabelRecord[] {
    const issue = this.issue(repo, number)
    this.requireWrite(repo, actor, 'triage')
    issue.labels = this.ensureLabels(repo, labelNames(names))
    this.touch(repo, issue, this.now())
    return this.issueLabels(repo, issue)
  }

  removeLabel (repo: RepoRecord, actor: string, number: number, name: string): LabelRecord[] {
    const issue = this.issue(repo, number)
    this.requireWrite(repo, actor, 'triage')
    const label = this.labelByName(repo, name)
    if (label == null || !issue.labels.includes(label.id)) throw new ApiError(404, 'Label does not exist')
    issue.labels = issue.labels.filter((id) => id !== label.id)
    this.touch(repo, issue, this.now())
    return this.issueLabels(repo, issue)
  }

  /**
   * Issues (and pull requests) matching the filter, sorted. `at` views the repository as it
   * was at that time (for list lag); undefined means now.
   */
  listIssues (repo: RepoRecord, f: IssueFilter = {}, at?: number): IssueRecord[] {
    const state = f.state ?? 'open'
    const wantLabels = (f.labels ?? []).map((l) => l.toLowerCase()).filter((l) => l !== '')
    const out: IssueRecord[] = []
    for (const current of repo.issues.values()) {
      const i = viewAt(current, at)
      if (i == null) continue
      if (f.kind === 'pull' && i.pull == null) continue
      if (f.kind === 'issue' && i.pull != null) continue
      if (state !== 'all' && i.state !== state) continue
      if (wantLabels.length > 0) {
        const names = new Set(this.issueLabels(repo, i).map((l) => l.name.toLowerCase()))
        if (!wantLabels.every((l) => names.has(l))) continue
      }
      if (f.assignee != null) {
        if (f.assignee === 'none') { if (i.assignees.length > 0) continue } else if (f.assignee === '*') { if (i.assignees.length === 0) continue } else if (!i.assignees.some((a) => a.toLowerCase() === f.assignee?.toLowerCase())) continue
      }
      if (f.creator != null && i.author.toLowerCase() !== f.creator.toLowerCase()) continue
      if (f.since != null && sec(i.updatedAt) < sec(f.since)) continue
      out.push(i)
    }
    const sort = f.sort ?? 'created'
    const dir = f.direction === 'asc' ? 1 : -1
    const key = (i: IssueRecord): number => sort === 'updated' ? i.updatedAt : sort === 'comments' ? i.comments : i.createdAt
    out.sort((a, b) => dir * ((key(a) - key(b)) || (a.number - b.number)))
    return out
  }
}
