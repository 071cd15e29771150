/** Routes: pull requests. */
import { validationFailed } from '../errors.js'
import type { ApiError } from '../errors.js'
import type { RepoRecord } from '../state.js'
import { ancestry, commitsBetween, diffFiles, fetchCommit, isAncestor, readCommit, updateRef } from '../git.js'
import type { Router } from '../router.js'
import type { Ctx, ForgeServices, Handler } from './common.js'
import { editChanges, oneOf, routeHelpers } from './common.js'

export function pullRoutes (router: Router<Handler>, f: ForgeServices): void {
  const { state, gitQueue, path } = f
  const { repoOf, numberOf, listAt, emit, paginate } = routeHelpers(f)
  router.add('GET', '/repos/:owner/:repo/pulls', (ctx) => {
    const repo = repoOf(ctx)
    const q = ctx.query
    const list = state.listPulls(repo, {
      state: oneOf(q.get('state'), ['open', 'closed', 'all'] as const, 'open'),
      sort: oneOf(q.get('sort'), ['created', 'updated'] as const, 'created'),
      direction: oneOf(q.get('direction'), ['asc', 'desc'] as const, 'desc'),
      ...(q.get('head') != null ? { head: q.get('head') ?? '' } : {}),
      ...(q.get('base') != null ? { base: q.get('base') ?? '' } : {})
    }, listAt())
    const { page, headers } = paginate(ctx, list)
    return { status: 200, body: page.map((i) => f.render.pull(repo, i, false, ctx.actor?.login)), headers }
  })
  router.add('GET', '/repos/:owner/:repo/pulls/:number', (ctx) => {
    const repo = repoOf(ctx)
    return { status: 200, body: f.render.pull(repo, state.pull(repo, numberOf(ctx)), true, ctx.actor?.login) }
  })
  /** The base and head a pull request compares: its base branch now (or at creation), its head. */
  const range = (ctx: Ctx): { repo: RepoRecord, base: string, head: string } => {
    const repo = repoOf(ctx)
    const pr = state.pull(repo, numberOf(ctx))
    return { repo, base: repo.branches.get(pr.pull.baseRef) ?? pr.pull.baseSha, head: pr.pull.headSha }
  }
  router.add('GET', '/repos/:owner/:repo/pulls/:number/files', async (ctx) => {
    const { repo, base, head } = range(ctx)
    const files = await diffFiles(path(repo), base, head)
    // GitHub lists at most 3000 files, 30 per page by default.
    const { page, headers } = paginate(ctx, files.slice(0, 3000))
    return { status: 200, body: page.map((file) => f.render.file(repo, head, file)), headers }
  })
  router.add('GET', '/repos/:owner/:repo/pulls/:number/commits', async (ctx) => {
    const { repo, base, head } = range(ctx)
    const shas = await commitsBetween(path(repo), base, head, 250)
    const { page, headers } = paginate(ctx, shas)
    const commits = []
    for (const sha of page) {
      const c = await readCommit(path(repo), sha)
      if (c != null) commits.push(f.render.commit(repo, c))
    }
    return { status: 200, body: commits, headers }
  })
  router.add('PATCH', '/repos/:owner/:repo/pulls/:number', (ctx) => {
    const repo = repoOf(ctx)
    const old = { ...state.pull(repo, numberOf(ctx)) }
    const pr = state.updatePull(repo, ctx.login(), numberOf(ctx), ctx.body)
    const body = f.render.pull(repo, pr, true, ctx.actor?.login)
    const action = pr.state !== old.state ? (pr.state === 'closed' ? 'closed' : 'reopened') : 'edited'
    emit(repo, 'pull_request', () => ({ action, number: pr.number, pull_request: body, ...(action === 'edited' ? { changes: editChanges(old, pr) } : {}) }), ctx)
    return { status: 200, body }
  })
  router.add('POST', '/repos/:owner/:repo/pulls', async (ctx) => {
    const repo = repoOf(ctx)
    const login = ctx.login()
    const b = ctx.body
    if (typeof b.title !== 'string' && b.issue == null) throw validationFailed({ resource: 'PullRequest', field: 'title', code: 'missing_field' })
    if (typeof b.head !== 'string' || b.head === '') throw validationFailed({ resource: 'PullRequest', field: 'head', code: 'missing_field' })
    if (typeof b.base !== 'string' || b.base === '') throw validationFailed({ resource: 'PullRequest', field: 'base', code: 'missing_field' })
    const baseRef = b.base
    const [headOwner, headRef] = b.head.includes(':') ? b.head.split(':', 2) as [string, string] : [repo.owner, b.head]
    const headRepo = headOwner.toLowerCase() === repo.owner.toLowerCase() ? repo : state.networkRepoOf(repo, headOwner)
    const invalid = (field: string): ApiError => validationFailed({ resource: 'PullRequest', field, code: 'invalid' })
    if (headRepo == null || !headRepo.gitReady || headRepo.branches.get(headRef) == null) throw invalid('head')
    if (repo.branches.get(baseRef) == null) throw invalid('base')
    state.checkPull(repo, { headRepo, headRef, baseRef })
    // In the head repository's queue, not the base's: a push to the head branch (which moves the
    // open pull requests' refs) waits for the new ref, and pull requests from different forks
    // into one repository are opened side by side (through the base's queue, every pull request
    // of a busy repository waited for each other's git processes, seconds apart under load).
    const issue = await gitQueue.run(headRepo.key, async () => {
      const headSha = headRepo.branches.get(headRef)
      if (headSha == null) throw invalid('head')
      const baseSha = repo.branches.get(baseRef)
      if (baseSha == null) throw invalid('base')
      // A fork's parent reads the fork's commits (it borrows its objects); from further away in
      // the network, the head commit is fetched first, under no ref: refs/pull/N/head names it.
      let merged = await ancestry(path(repo), headSha, baseSha)
      if (merged === undefined && headRepo !== repo) {
        await fetchCommit(path(repo), path(headRepo), headSha)
        merged = await isAncestor(path(repo), headSha, baseSha)
      }
      if (merged === undefined) throw invalid('head')
      if (merged) {
        throw validationFailed({ resource: 'PullRequest', code: 'custom', message: `No commits between ${baseRef} and ${b.head as string}` })
      }
      let title = typeof b.title === 'string' ? b.title : ''
      let body = typeof b.body === 'string' ? b.body : null
      if (b.issue != null) {
        const from = state.issue(repo, Number(b.issue))
        title = from.title
        body = from.body
      }
      // createPull checks again for a pull request of this head and base opened meanwhile.
      const pr = state.createPull(repo, login, {
        title, body, headRepo, headRef, headSha, baseRef, baseSha,
        draft: b.draft === true, maintainerCanModify: b.maintainer_can_modify !== false
      })
      await updateRef(path(repo), `refs/pull/${pr.number}/head`, headSha)
      return pr
    })
    const body = f.render.pull(repo, issue, true, login)
    emit(repo, 'pull_request', () => ({ action: 'opened', number: issue.number, pull_request: body }), ctx)
    return { status: 201, body, headers: { location: String(body.url) } }
  })
}
