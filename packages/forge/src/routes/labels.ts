/** Routes: a repository's labels and an issue's labels. */
import { notFound } from '../errors.js'
import type { RepoRecord } from '../state.js'
import type { Router } from '../router.js'
import type { Ctx, ForgeServices, Handler, Reply } from './common.js'
import { labelsParam, routeHelpers } from './common.js'

export function labelRoutes (router: Router<Handler>, f: ForgeServices): void {
  const { state } = f
  const { repoOf, numberOf, emit, paginate } = routeHelpers(f)
  router.add('GET', '/repos/:owner/:repo/labels', (ctx) => {
    const repo = repoOf(ctx)
    const { page, headers } = paginate(ctx, state.listLabels(repo))
    return { status: 200, body: page.map((l) => f.render.label(repo, l)), headers }
  })
  router.add('POST', '/repos/:owner/:repo/labels', (ctx) => {
    const repo = repoOf(ctx)
    const l = state.createLabel(repo, ctx.login(), ctx.body)
    return { status: 201, body: f.render.label(repo, l) }
  })
  router.add('GET', '/repos/:owner/:repo/labels/:name', (ctx) => {
    const repo = repoOf(ctx)
    const l = state.labelByName(repo, ctx.params.name ?? '')
    if (l == null) throw notFound()
    return { status: 200, body: f.render.label(repo, l) }
  })
  router.add('PATCH', '/repos/:owner/:repo/labels/:name', (ctx) => {
    const repo = repoOf(ctx)
    return { status: 200, body: f.render.label(repo, state.updateLabel(repo, ctx.login(), ctx.params.name ?? '', ctx.body)) }
  })
  router.add('DELETE', '/repos/:owner/:repo/labels/:name', (ctx) => {
    const repo = repoOf(ctx)
    state.deleteLabel(repo, ctx.login(), ctx.params.name ?? '')
    return { status: 204 }
  })
  router.add('GET', '/repos/:owner/:repo/issues/:number/labels', (ctx) => {
    const repo = repoOf(ctx)
    const { page, headers } = paginate(ctx, state.issueLabels(repo, state.issue(repo, numberOf(ctx))))
    return { status: 200, body: page.map((l) => f.render.label(repo, l)), headers }
  })
  const labelReply = (ctx: Ctx, repo: RepoRecord, action: string): Reply => {
    const issue = state.issue(repo, numberOf(ctx))
    emit(repo, issue.pull != null ? 'pull_request' : 'issues', () => issue.pull != null ? { action, number: issue.number, pull_request: f.render.pull(repo, issue, true) } : { action, issue: f.render.issue(repo, issue) }, ctx)
    return { status: 200, body: state.issueLabels(repo, issue).map((l) => f.render.label(repo, l)) }
  }
  router.add('POST', '/repos/:owner/:repo/issues/:number/labels', (ctx) => {
    const repo = repoOf(ctx)
    state.addLabels(repo, ctx.login(), numberOf(ctx), labelsParam(ctx))
    return labelReply(ctx, repo, 'labeled')
  })
  router.add('PUT', '/repos/:owner/:repo/issues/:number/labels', (ctx) => {
    const repo = repoOf(ctx)
    state.setLabels(repo, ctx.login(), numberOf(ctx), labelsParam(ctx) ?? [])
    return labelReply(ctx, repo, 'labeled')
  })
  router.add('DELETE', '/repos/:owner/:repo/issues/:number/labels', (ctx) => {
    const repo = repoOf(ctx)
    state.setLabels(repo, ctx.login(), numberOf(ctx), [])
    labelReply(ctx, repo, 'unlabeled')
    return { status: 204 }
  })
  router.add('DELETE', '/repos/:owner/:repo/issues/:number/labels/:name', (ctx) => {
    const repo = repoOf(ctx)
    state.removeLabel(repo, ctx.login(), numberOf(ctx), ctx.params.name ?? '')
    return labelReply(ctx, repo, 'unlabeled')
  })
}
