/** Routes: the authenticated user, users, the rate limit. */
import type { Json } from '../render.js'
import type { UserRecord } from '../state.js'
import { notFound } from '../errors.js'
import type { Router } from '../router.js'
import type { ForgeServices, Handler } from './common.js'

export function userRoutes (router: Router<Handler>, f: ForgeServices): void {
  const { state, limiter } = f
  router.add('GET', '/user', (ctx) => {
    ctx.login()
    return { status: 200, body: f.render.fullUser(ctx.actor as UserRecord, true) }
  })
  router.add('GET', '/users/:login', (ctx) => {
    const u = state.user(ctx.params.login ?? '')
    if (u == null) throw notFound()
    return { status: 200, body: f.render.fullUser(u, false) }
  })
  router.add('GET', '/rate_limit', (ctx) => {
    const p = limiter.primary(ctx.actor?.login.toLowerCase())
    const core = { limit: p.limit, remaining: p.remaining, reset: p.reset, used: p.used }
    const other = (limit: number): Json => ({ limit, remaining: limit, reset: p.reset, used: 0 })
    return { status: 200, body: { resources: { core, search: other(30), graphql: other(5000), integration_manifest: other(5000), code_search: other(10) }, rate: core } }
  })
}
