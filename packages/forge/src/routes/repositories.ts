/** Routes: repositories and forks. */
import { ApiError, notFound } from '../errors.js'
import type { Router } from '../router.js'
import type { ForgeServices, Handler } from './common.js'
import { oneOf, routeHelpers } from './common.js'
import { sortRepos } from './orgs.js'

export function repositoryRoutes (router: Router<Handler>, f: ForgeServices): void {
  const { state, startFork } = f
  const { repoOf, emit, paginate } = routeHelpers(f)
  router.add('GET', '/users/:login/repos', (ctx) => {
    const u = state.user(ctx.params.login ?? '')
    if (u == null) throw notFound()
    const type = ctx.query.get('type') ?? 'owner'
    const repos = [...state.repos.values()].filter((r) => r.owner.toLowerCase() === u.login.toLowerCase() && (type !== 'member'))
    const { page, headers } = paginate(ctx, sortRepos(ctx, repos, 'full_name'))
    return { status: 200, body: page.map((r) => f.render.repo(r, ctx.actor?.login, false)), headers }
  })

  router.add('GET', '/repos/:owner/:repo', (ctx) => ({ status: 200, body: f.render.repo(repoOf(ctx), ctx.actor?.login) }))

  router.add('POST', '/repos/:owner/:repo/forks', (ctx) => {
    const repo = repoOf(ctx)
    const login = ctx.login()
    if (!repo.gitReady || repo.branches.size === 0) throw new ApiError(403, 'Repository is empty.')
    const { fork, created } = state.fork(repo, login, { organization: ctx.body.organization, name: ctx.body.name })
    if (created) {
      startFork(repo, fork)
      emit(repo, 'fork', () => ({ forkee: f.render.repo(fork, login) }), ctx)
    }
    return { status: 202, body: f.render.repo(fork, login) }
  })
  router.add('GET', '/repos/:owner/:repo/forks', (ctx) => {
    const repo = repoOf(ctx)
    const sort = oneOf(ctx.query.get('sort'), ['newest', 'oldest', 'stargazers', 'watchers'] as const, 'newest')
    const forks = repo.forks.map((k) => state.repoByKey(k)).sort((a, b) => sort === 'oldest' ? a.id - b.id : b.id - a.id)
    const { page, headers } = paginate(ctx, forks)
    return { status: 200, body: page.map((fork) => f.render.repo(fork, ctx.actor?.login, false)), headers }
  })
}
