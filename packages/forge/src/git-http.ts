/** The git half of the forge's HTTP server: smart HTTP through `git http-backend`, with GitHub's answers. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { serveHttpBackend } from './git.js'
import { authenticate } from './rest.js'
import type { ForgeServices } from './routes/common.js'
import { atLeast } from './state.js'

/** `/{owner}/{repo}[.git]/{info/refs|git-upload-pack|git-receive-pack}` */
export const GIT_PATH = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/

export function gitHandler (f: ForgeServices): (req: IncomingMessage, res: ServerResponse, reqUrl: URL, m: RegExpExecArray) => Promise<void> {
  const { state, gitQueue, dataDir, refreshRefs } = f
  return async (req, res, reqUrl, m) => {
    const repo = state.findRepo(m[1] ?? '', m[2] ?? '')
    const text = (status: number, msg: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers })
      res.end(`${msg}\n`)
    }
    if (repo == null || !repo.gitReady) { text(404, 'Repository not found.'); return }
    const action = m[3] ?? ''
    const service = action === 'info/refs' ? reqUrl.searchParams.get('service') : action
    const push = service === 'git-receive-pack'
    const { actor, bad } = authenticate(state, req)
    if (bad) { text(401, 'Invalid username or token. Password authentication is not supported for Git operations.', { 'www-authenticate': 'Basic realm="GitHub"' }); return }
    if (push) {
      if (actor == null) { text(401, 'Authentication required.', { 'www-authenticate': 'Basic realm="GitHub"' }); return }
      if (!atLeast(state.permission(repo, actor.login), 'write')) {
        text(403, `Permission to ${repo.owner}/${repo.name}.git denied to ${actor.login}.`)
        return
      }
    }
    const pathInfo = `/${repo.key}.git/${action}`
    const query = reqUrl.search.replace(/^\?/, '')
    const remoteUser = actor?.login
    if (push && action === 'git-receive-pack') {
      // One receive-pack at a time per repository, and the API's state follows before the client hears back.
      await gitQueue.run(repo.key, async () => {
        await serveHttpBackend(req, res, { projectRoot: dataDir, pathInfo, query, ...(remoteUser != null ? { remoteUser } : {}), beforeEnd: async () => { await refreshRefs(repo, actor) } })
      })
      return
    }
    await serveHttpBackend(req, res, { projectRoot: dataDir, pathInfo, query, ...(remoteUser != null ? { remoteUser } : {}) })
  }
}
