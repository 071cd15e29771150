/** Routes: issues, assignees and collaborator permissions. */
import { notFound } from '../errors.js'
import { atLeast } from '../state.js'
import type { IssueFilter } from '../state.js'
import type { Router } from '../router.js'
import type { ForgeServices, Handler } from './common.js'
import { editChanges, oneOf, parseTime, routeHelpers } from './common.js'

export function issueRoutes (router: Router<Handler>, f: ForgeServices): void {
  const { state } = f
  const { repoOf, numberOf, listAt, emit, paginate } = routeHelpers(f)
  router.add('GET', '/repos/:owner/:repo/issues', (ctx) => {
    const repo = repoOf(ctx)
    const q = ctx.query
    const filter: IssueFilter = {
      state: oneOf(q.get('state'), ['open', 'closed', 'all'] as const, 'open'),
      sort: oneOf(q.get('sort'), ['created', 'updated', 'comments'] as const, 'created'),
      direction: oneOf(q.get('direction'), ['asc', 'desc'] as const, 'desc')
    }
    const labels = q.get('labels')
    if (labels != null && labels !== '') filter.labels = labels.split(',').map((l) => l.trim())
    const assignee = q.get('assignee')
    if (assignee != null && assignee !== '') filter.assignee = assignee
    const creator = q.get('creator')
    if (creator != null && creator !== '') filter.creator = creator
    const since = parseTime(q.get('since'), 'since')
    if (since != null) filter.since = since
    const { page, headers } = paginate(ctx, state.listIssues(repo, filter, listAt()))
    return { status: 200, body: page.map((i) => f.render.issue(repo, i)), headers }
  })
  router.add('POST', '/repos/:owner/:repo/issues', (ctx) => {
    const repo = repoOf(ctx)
    const issue = state.createIssue(repo, ctx.login(), ctx.body)
    const body = f.render.issue(repo, issue)
    emit(repo, 'issues', () => ({ action: 'opened', issue: body }), ctx)
    return { status: 201, body, headers: { location: String(body.url) } }
  })
  router.add('GET', '/repos/:owner/:repo/issues/:number', (ctx) => {
    const repo = repoOf(ctx)
    return { status: 200, body: f.render.issue(repo, state.issue(repo, numberOf(ctx))) }
  })
  router.add('PATCH', '/repos/:owner/:repo/issues/:number', (ctx) => {
    const repo = repoOf(ctx)
    const old = { ...state.issue(repo, numberOf(ctx)) }
    const issue = state.updateIssue(repo, ctx.login(), numberOf(ctx), ctx.body)
    const body = f.render.issue(repo, issue)
    const action = issue.state !== old.state ? (issue.state === 'closed' ? 'closed' : 'reopened') : 'edited'
    const extra = action === 'edited' ? { changes: editChanges(old, issue) } : {}
    if (issue.pull != null) emit(repo, 'pull_request', () => ({ action, number: issue.number, pull_request: f.render.pull(repo, issue, true), ...extra }), ctx)
    else emit(repo, 'issues', () => ({ action, issue: body, ...extra }), ctx)
    return { status: 200, body }
  })
  router.add('POST', '/repos/:owner/:repo/issues/:number/assignees', (ctx) => {
    const repo = repoOf(ctx)
    const issue = state.addAssignees(repo, ctx.login(), numberOf(ctx), ctx.body.assignees ?? [])
    const body = f.render.issue(repo, issue)
    emit(repo, 'issues', () => ({ action: 'assigned', issue: body }), ctx)
    return { status: 201, body }
  })
  router.add('DELETE', '/repos/:owner/:repo/issues/:number/assignees', (ctx) => {
    const repo = repoOf(ctx)
    const issue = state.removeAssignees(repo, ctx.login(), numberOf(ctx), ctx.body.assignees ?? [])
    const body = f.render.issue(repo, issue)
    emit(repo, 'issues', () => ({ action: 'unassigned', issue: body }), ctx)
    return { status: 200, body }
  })
  router.add('GET', '/repos/:owner/:repo/assignees/:login', (ctx) => {
    const repo = repoOf(ctx)
    if (!state.assignable(repo, ctx.params.login ?? '')) throw notFound()
    return { status: 204 }
  })
  router.add('GET', '/repos/:owner/:repo/collaborators/:login/permission', (ctx) => {
    const repo = repoOf(ctx)
    const u = state.user(ctx.params.login ?? '')
    if (u == null) throw notFound()
    const perm = state.permission(repo, u.login)
    const legacy = perm === 'admin' ? 'admin' : perm === 'write' ? 'write' : 'read'
    return { status: 200, body: { permission: legacy, role_name: perm, user: { ...f.render.user(u), role_name: perm, permissions: { admin: perm === 'admin', maintain: perm === 'admin', push: atLeast(perm, 'write'), triage: atLeast(perm, 'triage'), pull: true } } } }
  })
}
