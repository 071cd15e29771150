/**
 * Route: an issue's timeline, as far as the forge keeps one: a `cross-referenced` event for each
 * other issue or pull request of the repository whose body mentions `#N` (as GitHub records
 * "mentioned this issue" when a pull request says `Closes #N`), oldest first.
 */
import { iso } from '../render.js'
import type { IssueRecord } from '../state.js'
import type { Router } from '../router.js'
import type { ForgeServices, Handler } from './common.js'
import { routeHelpers } from './common.js'

/** Whether `body` mentions issue `n` of its own repository (`#12`, not `#123` or `a#12`). */
export function mentions (body: string | null, n: number): boolean {
  if (body == null) return false
  return new RegExp(`(?:^|[^\\w/#])#${n}(?!\\d)`).test(body)
}

export function timelineRoutes (router: Router<Handler>, f: ForgeServices): void {
  const { state } = f
  const { repoOf, numberOf, listAt, paginate } = routeHelpers(f)
  router.add('GET', '/repos/:owner/:repo/issues/:number/timeline', (ctx) => {
    const repo = repoOf(ctx)
    const n = numberOf(ctx)
    state.issue(repo, n)
    const sources: IssueRecord[] = state.listIssues(repo, { state: 'all', sort: 'created', direction: 'asc' }, listAt())
      .filter((i) => i.number !== n && mentions(i.body, n))
    const { page, headers } = paginate(ctx, sources)
    return {
      status: 200,
      headers,
      body: page.map((i) => ({
        event: 'cross-referenced',
        actor: f.render.user(i.author),
        created_at: iso(i.createdAt),
        updated_at: iso(i.createdAt),
        source: { type: 'issue', issue: f.render.issue(repo, i) }
      }))
    }
  })
}
