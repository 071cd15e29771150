/** Routes: organisations, their members and their repositories. */
import { notFound } from '../errors.js'
import type { Router } from '../router.js'
import type { OrgRecord, RepoRecord } from '../state.js'
import type { Ctx, ForgeServices, Handler } from './common.js'
import { oneOf, routeHelpers } from './common.js'

/** Repositories sorted as `GET /orgs/{org}/repos` and `GET /users/{username}/repos` sort them. */
export function sortRepos (ctx: Ctx, repos: RepoRecord[], defaultSort: 'created' | 'full_name'): RepoRecord[] {
  const sort = oneOf(ctx.query.get('sort'), ['created', 'updated', 'pushed', 'full_name'] as const, defaultSort)
  const direction = oneOf(ctx.query.get('direction'), ['asc', 'desc'] as const, sort === 'full_name' ? 'asc' : 'desc')
  const key = (r: RepoRecord): number | string => sort === 'updated' ? r.updatedAt : sort === 'pushed' ? r.pushedAt : sort === 'full_name' ? r.key : r.createdAt
  const dir = direction === 'asc' ? 1 : -1
  return [...repos].sort((a, b) => {
    const ka = key(a)
    const kb = key(b)
    return dir * (ka < kb ? -1 : ka > kb ? 1 : a.id - b.id)
  })
}

export function orgRoutes (router: Router<Handler>, f: ForgeServices): void {
  const { state } = f
  const { paginate } = routeHelpers(f)
  const orgOf = (ctx: Ctx): OrgRecord => {
    const o = state.orgs.get((ctx.params.org ?? '').toLowerCase())
    if (o == null) throw notFound()
    return o
  }

  router.add('GET', '/orgs/:org', (ctx) => ({ status: 200, body: f.render.org(orgOf(ctx)) }))

  router.add('GET', '/orgs/:org/members', (ctx) => {
    const o = orgOf(ctx)
    const role = oneOf(ctx.query.get('role'), ['all', 'admin', 'member'] as const, 'all')
    const logins = [...o.members].filter((m) => role === 'all' || (role === 'admin') === o.owners.has(m))
    const users = logins.map((l) => state.user(l)).filter((u) => u != null).sort((a, b) => a.id - b.id)
    const { page, headers } = paginate(ctx, users)
    return { status: 200, body: page.map((u) => f.render.user(u)), headers }
  })

  // GitHub answers 302 (to the public members) when the asker is not a member; every
  // membership is public here, so the answer is 204 or 404 for everyone.
  router.add('GET', '/orgs/:org/members/:login', (ctx) => {
    const o = orgOf(ctx)
    if (!o.members.has((ctx.params.login ?? '').toLowerCase())) throw notFound()
    return { status: 204 }
  })

  router.add('GET', '/orgs/:org/repos', (ctx) => {
    const o = orgOf(ctx)
    const type = oneOf(ctx.query.get('type'), ['all', 'public', 'private', 'forks', 'sources', 'member'] as const, 'all')
    const repos = [...state.repos.values()].filter((r) => r.owner.toLowerCase() === o.login.toLowerCase() &&
      (type === 'forks' ? r.parent != null : type === 'sources' ? r.parent == null : type !== 'private'))
    const { page, headers } = paginate(ctx, sortRepos(ctx, repos, 'created'))
    return { status: 200, body: page.map((r) => f.render.repo(r, ctx.actor?.login, false)), headers }
  })
}
