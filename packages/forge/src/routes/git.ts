/** Routes: branches and git references (the git database API). */
import { ApiError, notFound } from '../errors.js'
import { deleteRef, isAncestor, objectExists, readCommit, readHeads, updateRef, ZERO_SHA } from '../git.js'
import type { Router } from '../router.js'
import type { Ctx, ForgeServices, Handler, Reply } from './common.js'
import { routeHelpers } from './common.js'

export function gitRoutes (router: Router<Handler>, f: ForgeServices): void {
  const { gitQueue, path, refreshRefs } = f
  const { repoOf, paginate, readyRepo, requirePush } = routeHelpers(f)
  router.add('GET', '/repos/:owner/:repo/branches', (ctx) => {
    const repo = repoOf(ctx)
    const branches = repo.gitReady ? [...repo.branches.entries()].sort(([a], [b]) => a.localeCompare(b)) : []
    const { page, headers } = paginate(ctx, branches)
    return { status: 200, body: page.map(([name, sha]) => f.render.shortBranch(repo, name, sha)), headers }
  })
  router.add('GET', '/repos/:owner/:repo/branches/:branch+', async (ctx) => {
    const repo = readyRepo(ctx)
    const name = ctx.params.branch ?? ''
    const sha = repo.branches.get(name)
    if (sha == null) throw new ApiError(404, 'Branch not found')
    const commit = await readCommit(path(repo), sha)
    if (commit == null) throw new ApiError(404, 'Branch not found')
    return { status: 200, body: f.render.branch(repo, name, commit) }
  })
  const getRef = (ctx: Ctx): Reply => {
    const repo = readyRepo(ctx)
    const ref = ctx.params.ref ?? ''
    const m = /^heads\/(.+)$/.exec(ref)
    const sha = m?.[1] != null ? repo.branches.get(m[1]) : undefined
    if (sha == null) throw notFound()
    return { status: 200, body: f.render.ref(repo, `refs/${ref}`, sha) }
  }
  router.add('GET', '/repos/:owner/:repo/git/ref/:ref+', getRef)
  router.add('GET', '/repos/:owner/:repo/git/refs/:ref+', getRef)
  router.add('GET', '/repos/:owner/:repo/git/matching-refs/:ref+', (ctx) => {
    const repo = readyRepo(ctx)
    const prefix = ctx.params.ref ?? ''
    const out = [...repo.branches.entries()]
      .map(([name, sha]) => [`refs/heads/${name}`, sha] as const)
      .filter(([ref]) => ref.startsWith(`refs/${prefix}`))
      .sort(([a], [b]) => a.localeCompare(b))
    return { status: 200, body: out.map(([ref, sha]) => f.render.ref(repo, ref, sha)) }
  })
  router.add('POST', '/repos/:owner/:repo/git/refs', async (ctx) => {
    const repo = readyRepo(ctx)
    const login = ctx.login()
    requirePush(repo, login)
    const ref = ctx.body.ref
    const sha = ctx.body.sha
    if (typeof ref !== 'string' || !/^refs\/[^/]+\/.+/.test(ref)) throw new ApiError(422, 'Reference name is invalid')
    if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) throw new ApiError(422, 'Object does not exist')
    if (ref.startsWith('refs/pull/')) throw new ApiError(422, 'Reference name is invalid')
    await gitQueue.run(repo.key, async () => {
      if (!(await objectExists(path(repo), sha))) throw new ApiError(422, 'Object does not exist')
      if (!(await updateRef(path(repo), ref, sha, ZERO_SHA))) throw new ApiError(422, 'Reference already exists')
      await refreshRefs(repo, ctx.actor)
    })
    return { status: 201, body: f.render.ref(repo, ref, sha), headers: { location: `${f.url}/repos/${repo.owner}/${repo.name}/git/${ref}` } }
  })
  router.add('PATCH', '/repos/:owner/:repo/git/refs/:ref+', async (ctx) => {
    const repo = readyRepo(ctx)
    const login = ctx.login()
    requirePush(repo, login)
    const ref = `refs/${ctx.params.ref ?? ''}`
    const sha = ctx.body.sha
    if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) throw new ApiError(422, 'Object does not exist')
    await gitQueue.run(repo.key, async () => {
      const m = /^refs\/heads\/(.+)$/.exec(ref)
      const current = m?.[1] != null ? (await readHeads(path(repo))).get(m[1]) : undefined
      if (current == null) throw new ApiError(422, 'Reference does not exist')
      if (!(await objectExists(path(repo), sha))) throw new ApiError(422, 'Object does not exist')
      if (ctx.body.force !== true && !(await isAncestor(path(repo), current, sha))) throw new ApiError(422, 'Update is not a fast forward')
      if (!(await updateRef(path(repo), ref, sha, current))) throw new ApiError(422, 'Reference cannot be updated')
      await refreshRefs(repo, ctx.actor)
    })
    return { status: 200, body: f.render.ref(repo, ref, sha) }
  })
  router.add('DELETE', '/repos/:owner/:repo/git/refs/:ref+', async (ctx) => {
    const repo = readyRepo(ctx)
    requirePush(repo, ctx.login())
    const ref = `refs/${ctx.params.ref ?? ''}`
    await gitQueue.run(repo.key, async () => {
      if (!(await deleteRef(path(repo), ref))) throw new ApiError(422, 'Reference does not exist')
      await refreshRefs(repo, ctx.actor)
    })
    return { status: 204 }
  })
}
