/** Issue comments: ids strictly increasing across the forge, edits and deletions kept as versions. */
import { notFound, validationFailed } from '../errors.js'
import { asString, record, sec, viewAt } from './records.js'
import type { CommentRecord, RepoRecord } from './records.js'
import { IssuesState } from './issues.js'

export abstract class CommentsState extends IssuesState {
  comment (repo: RepoRecord, id: number): CommentRecord {
    const c = repo.comments.get(id)
    if (c == null || c.deleted) throw notFound()
    return c
  }

  createComment (repo: RepoRecord, actor: string, number: number, body: unknown): CommentRecord {
    const issue = this.issue(repo, number)
    const text = asString(body)
    if (text == null || text === '') throw validationFailed({ resource: 'IssueComment', field: 'body', code: 'missing_field' })
    const now = this.now()
    const c: CommentRecord = {
      id: this.nextId.comment++,
      issueNumber: issue.number,
      body: text,
      author: this.userOrThrow(actor).login,
      createdAt: now,
      updatedAt: now,
      deleted: false,
      versions: []
    }
    repo.comments.set(c.id, c)
    const ids = repo.commentsByIssue.get(issue.number) ?? []
    ids.push(c.id)
    repo.commentsByIssue.set(issue.number, ids)
    record(c, now)
    issue.comments++
    this.touch(repo, issue, now)
    return c
  }

  private requireCommentRights (repo: RepoRecord, actor: string, c: CommentRecord): void {
    if (c.author.toLowerCase() === actor.toLowerCase()) return
    this.requireWrite(repo, actor, 'write')
  }

  updateComment (repo: RepoRecord, actor: string, id: number, body: unknown): CommentRecord {
    const c = this.comment(repo, id)
    this.requireCommentRights(repo, actor, c)
    const text = asString(body)
    if (text == null || text === '') throw validationFailed({ resource: 'IssueComment', field: 'body', code: 'missing_field' })
    const now = this.now()
    c.body = text
    c.updatedAt = now
    record(c, now)
    return c
  }

  deleteComment (repo: RepoRecord, actor: string, id: number): CommentRecord {
    const c = this.comment(repo, id)
    this.requireCommentRights(repo, actor, c)
    const now = this.now()
    c.deleted = true
    record(c, now, true)
    const issue = repo.issues.get(c.issueNumber)
    if (issue != null) {
      issue.comments = Math.max(0, issue.comments - 1)
      this.touch(repo, issue, now)
    }
    return c
  }

  /** Comments of one issue (or of the whole repository when `number` is undefined), oldest first. */
  listComments (repo: RepoRecord, number: number | undefined, f: { since?: number, direction?: 'asc' | 'desc', sort?: 'created' | 'updated' } = {}, at?: number): CommentRecord[] {
    if (number != null) this.issue(repo, number)
    const out: CommentRecord[] = []
    const source = number == null
      ? repo.comments.values()
      : (repo.commentsByIssue.get(number) ?? []).map((id) => repo.comments.get(id)).filter((c): c is CommentRecord => c != null)
    for (const current of source) {
      const c = viewAt(current, at)
      if (c == null || c.deleted) continue
      if (f.since != null && sec(c.updatedAt) < sec(f.since)) continue
      out.push(c)
    }
    const dir = f.direction === 'desc' ? -1 : 1
    if (f.sort === 'updated') out.sort((a, b) => dir * ((a.updatedAt - b.updatedAt) || (a.id - b.id)))
    else out.sort((a, b) => dir * (a.id - b.id))
    return out
  }
}
