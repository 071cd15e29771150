// Workspaces: one bare cache per upstream repository (cloned once, reused, fetched from
// upstream's default branch), and per task a `git clone --shared` of it (objects borrowed,
// nothing copied) checked out on the task branch. Remotes carry no credentials; fetches and
// pushes get the auth header from the environment. Snapshots are commits built with a
// private index, so that a WIP commit never disturbs the agent's own index or HEAD.
import { randomBytes } from 'node:crypto'
import { appendFile, copyFile, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { git, identityEnv } from './git.js'
import type { GitIdentity, WipRef } from './types.js'

export interface WorkspaceInit {
  /** `<dataDir>/executor`. */
  root: string
  gitEnv: () => Record<string, string>
  identity: GitIdentity
  redact?: (text: string) => string
}

export interface ForkRef { owner: string, repo: string, fullName: string, defaultBranch: string, cloneUrl: string }

export interface PrepareInit {
  /** Upstream `owner/name`. */
  upstream: string
  fork: ForkRef
  branch: string
  wipFrom?: WipRef
  signal?: AbortSignal
}

export interface Workspace {
  dir: string
  /** The bare cache whose objects the workspace borrows. */
  cacheDir: string
  branch: string
  /** Upstream's default branch head the task is based on. */
  upstreamHead: string
  /** Where the task branch starts: upstream's head, or a WIP head. */
  start: string
  /** The WIP branch it continues from, if any. */
  resumedFrom: (WipRef & { commit: string }) | undefined
}

export interface Workspaces {
  prepare: (init: PrepareInit) => Promise<Workspace>
  /** A commit of the working tree on top of `parent` (`.bzzz/` left out); `undefined` when the tree equals the parent's. */
  snapshot: (ws: Workspace, parent: string, message: string, signal?: AbortSignal) => Promise<string | undefined>
  /** Pushes `commit` to the fork's task branch. */
  push: (ws: Workspace, commit: string, signal?: AbortSignal) => Promise<void>
  /** Whether `commit`'s tree differs from `other`'s. */
  differs: (ws: Workspace, commit: string, other: string, signal?: AbortSignal) => Promise<boolean>
  remove: (ws: Workspace) => Promise<void>
}

function safe (s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9._-]/g, '_')
}

/** The git base of a clone URL: `https://github.com/a/b.git` → `https://github.com`. */
export function gitBaseOf (cloneUrl: string, fullName: string): string {
  const suffix = `/${fullName}.git`
  return cloneUrl.endsWith(suffix) ? cloneUrl.slice(0, -suffix.length) : new URL(cloneUrl).origin
}

export function createWorkspaces (init: WorkspaceInit): Workspaces {
  const locks = new Map<string, Promise<unknown>>()
  // One cache operation per repository at a time (fetches into the same refs would race).
  const locked = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = locks.get(key) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    const settled = next.catch(() => undefined)
    locks.set(key, settled)
    try {
      return await next
    } finally {
      if (locks.get(key) === settled) locks.delete(key)
    }
  }
  const run = async (args: string[], cwd: string, signal?: AbortSignal, env?: Record<string, string>): Promise<string> =>
    await git(args, { cwd, signal, redact: init.redact, ...(env !== undefined ? { env } : {}) })
  const auth = (): Record<string, string> => init.gitEnv()

  const prepare = async (p: PrepareInit): Promise<Workspace> => {
    const [owner, name] = p.upstream.split('/') as [string, string]
    const cacheDir = join(init.root, 'repos', safe(owner), `${safe(name)}.git`)
    const base = gitBaseOf(p.fork.cloneUrl, p.fork.fullName)
    const main = p.fork.defaultBranch
    const own = `refs/remotes/fork/${p.branch}`
    const wipRef = p.wipFrom === undefined ? undefined : `refs/remotes/wip/${safe(p.wipFrom.owner)}/${p.wipFrom.branch}`
    const { upstreamHead, start, resumedFrom } = await locked(cacheDir, async () => {
      await mkdir(cacheDir, { recursive: true })
      const exists = await run(['rev-parse', '--is-bare-repository'], cacheDir, p.signal).then(() => true, () => false)
      // A cache is a git directory of its own only once initialised (rev-parse may find a parent repository).
      const isOwn = exists && (await run(['rev-parse', '--git-dir'], cacheDir, p.signal)).trim() === '.'
      if (!isOwn) {
        await run(['init', '-q', '--bare'], cacheDir, p.signal)
        await run(['remote', 'add', 'upstream', `${base}/${p.upstream}.git`], cacheDir, p.signal)
        await run(['remote', 'add', 'fork', p.fork.cloneUrl], cacheDir, p.signal)
      } else {
        await run(['remote', 'set-url', 'fork', p.fork.cloneUrl], cacheDir, p.signal)
      }
      // Upstream's default branch, and this node's own branch for the task where it exists
      // (a glob refspec: a missing branch is not an error).
      await run(['fetch', '-q', '--no-tags', 'upstream', `+refs/heads/${main}:refs/remotes/upstream/${main}`], cacheDir, p.signal, auth())
      await run(['fetch', '-q', '--no-tags', 'fork', `+refs/heads/${p.branch}*:refs/remotes/fork/${p.branch}*`], cacheDir, p.signal, auth())
      const upstreamHead = (await run(['rev-parse', `refs/remotes/upstream/${main}`], cacheDir, p.signal)).trim()
      const resolve = async (ref: string): Promise<string | undefined> => {
        try {
          return (await run(['rev-parse', '--verify', '-q', `${ref}^{commit}`], cacheDir, p.signal)).trim()
        } catch {
          return undefined
        }
      }
      let resumedFrom: Workspace['resumedFrom']
      if (p.wipFrom !== undefined && wipRef !== undefined) {
        const url = `${base}/${p.wipFrom.owner}/${p.wipFrom.repo ?? name}.git`
        try {
          await run(['fetch', '-q', '--no-tags', url, `+refs/heads/${p.wipFrom.branch}:${wipRef}`], cacheDir, p.signal, auth())
          const commit = await resolve(wipRef)
          if (commit !== undefined) resumedFrom = { ...p.wipFrom, commit }
        } catch (err) {
          if (p.signal?.aborted === true) throw err
          // The other peer's branch is gone: start from this node's own, or afresh.
        }
      }
      if (resumedFrom === undefined) {
        const commit = await resolve(own)
        if (commit !== undefined) resumedFrom = { owner: p.fork.owner, repo: p.fork.repo, branch: p.branch, commit }
      }
      return { upstreamHead, start: resumedFrom?.commit ?? upstreamHead, resumedFrom }
    })
    const dir = join(init.root, 'tasks', `${safe(owner)}-${safe(name)}-${safe(p.branch)}-${randomBytes(3).toString('hex')}`)
    await rm(dir, { recursive: true, force: true })
    await mkdir(join(init.root, 'tasks'), { recursive: true })
    await run(['clone', '-q', '--shared', '--no-checkout', cacheDir, dir], init.root, p.signal)
    // The agent's remote is the fork without credentials: its own push fails.
    await run(['remote', 'set-url', 'origin', p.fork.cloneUrl], dir, p.signal)
    await run(['checkout', '-q', '-B', p.branch, start], dir, p.signal)
    await appendFile(join(dir, '.git', 'info', 'exclude'), '\n/.bzzz/\n')
    return { dir, cacheDir, branch: p.branch, upstreamHead, start, resumedFrom }
  }

  const snapshot = async (ws: Workspace, parent: string, message: string, signal?: AbortSignal): Promise<string | undefined> => {
    const index = join(ws.dir, '.git', 'bzzz-index')
    await copyFile(join(ws.dir, '.git', 'index'), index).catch(() => undefined)
    const env = { GIT_INDEX_FILE: index }
    await run(['add', '-A', '--', '.', ':(exclude).bzzz'], ws.dir, signal, env)
    const tree = (await run(['write-tree'], ws.dir, signal, env)).trim()
    const parentTree = (await run(['rev-parse', `${parent}^{tree}`], ws.dir, signal)).trim()
    if (tree === parentTree) return undefined
    return (await run(['commit-tree', tree, '-p', parent, '-m', message], ws.dir, signal, identityEnv(init.identity))).trim()
  }

  const push = async (ws: Workspace, commit: string, signal?: AbortSignal): Promise<void> => {
    // The task branch is this node's own while it holds the claim: a WIP from another peer may replace it.
    await run(['push', '-q', 'origin', `+${commit}:refs/heads/${ws.branch}`], ws.dir, signal, auth())
  }

  const differs = async (ws: Workspace, commit: string, other: string, signal?: AbortSignal): Promise<boolean> => {
    const [a, b] = await Promise.all([commit, other].map(async (c) => (await run(['rev-parse', `${c}^{tree}`], ws.dir, signal)).trim()))
    return a !== b
  }

  const remove = async (ws: Workspace): Promise<void> => {
    await rm(ws.dir, { recursive: true, force: true })
  }

  return { prepare, snapshot, push, differs, remove }
}
