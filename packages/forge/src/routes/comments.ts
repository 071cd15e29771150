/** Routes: issue comments (`/issues/comments` is matched before `/issues/:number`: the router prefers literal segments). */
import type { Router } from '../router.js'
import type { ForgeServices, Handler } from './common.js'
import { oneOf, parseTime, routeHelpers } from './common.js'

export function commentRoutes (router: Router<Handler>, f: ForgeServices): void {
  const { state } = f
  const { repoOf, numberOf, listAt, emit, paginate } = routeHelpers(f)
  router.add('GET', '/repos/:owner/:repo/issues/comments', (ctx) => {
    const repo = repoOf(ctx)
    const list = state.listComments(repo, undefined, {
      since: parseTime(ctx.query.get('since'), 'since'),
      sort: oneOf(ctx.query.get('sort'), ['created', 'updated'] as const, 'created'),
      direction: oneOf(ctx.query.get('direction'), ['asc', 'desc'] as const, 'asc')
    }, listAt())
    const { page, headers } = paginate(ctx, list)
    return { status: 200, body: page.map((c) => f.render.comment(repo, c)), headers }
  })
  router.add('GET', '/repos/:owner/:repo/issues/comments/:id', (ctx) => {
    const repo = repoOf(ctx)
    return { status: 200, body: f.render.comment(repo, state.comment(repo, numberOf(ctx, 'id'))) }
  })
  router.add('PATCH', '/repos/:owner/:repo/issues/comments/:id', (ctx) => {
    const repo = repoOf(ctx)
    const from = state.comment(repo, numberOf(ctx, 'id')).body
    const c = state.updateComment(repo, ctx.login(), numberOf(ctx, 'id'), ctx.body.body)
    const body = f.render.comment(repo, c)
    const issue = repo.issues.get(c.issueNumber)
    if (issue != null) emit(repo, 'issue_comment', () => ({ action: 'edited', issue: f.render.issue(repo, issue), comment: body, changes: { body: { from } } }), ctx)
    return { status: 200, body }
  })
  router.add('DELETE', '/repos/:owner/:repo/issues/comments/:id', (ctx) => {
    const repo = repoOf(ctx)
    const c = state.deleteComment(repo, ctx.login(), numberOf(ctx, 'id'))
    const issue = repo.issues.get(c.issueNumber)
    if (issue != null) emit(repo, 'issue_comment', () => ({ action: 'deleted', issue: f.render.issue(repo, issue), comment: f.render.comment(repo, c) }), ctx)
    return { status: 204 }
  })
  router.add('GET', '/repos/:owner/:repo/issues/:number/comments', (ctx) => {
    const repo = repoOf(ctx)
    const list = state.listComments(repo, numberOf(ctx), { since: parseTime(ctx.query.get('since'), 'since') }, listAt())
    const { page, headers } = paginate(ctx, list)
    return { status: 200, body: page.map((c) => f.render.comment(repo, c)), headers }
  })
  router.add('POST', '/repos/:owner/:repo/issues/:number/comments', (ctx) => {
    const repo = repoOf(ctx)
    const c = state.createComment(repo, ctx.login(), numberOf(ctx), ctx.body.body)
    const body = f.render.comment(repo, c)
    emit(repo, 'issue_comment', () => ({ action: 'created', issue: f.render.issue(repo, state.issue(repo, c.issueNumber)), comment: body }), ctx)
    return { status: 201, body, headers: { location: String(body.url) } }
  })
}
