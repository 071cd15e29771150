// Workspaces. One bare cache per upstream repository (fetched once, then incrementally from
// upstream's default branch), owned by the executor: every git command that holds the token,
// or that runs after the agent, uses the cache as its git directory and a private index, with
// the workspace only as the work tree. The workspace's own `.git` (which the agent may change:
// hooks, filters, a proxy) is never read by the executor's git; it is rebuilt for each task,
// borrowing the cache's objects. Workspace directories are slots, reused across tasks: a warm
// checkout rewrites only the files that differ.
import { access, appendFile, copyFile, mkdir, rm, writeFile } from 'node:fs/promises'
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
  /** The work tree the agent runs in. */
  dir: string
  /** The bare cache: the executor's git directory for this workspace. */
  cacheDir: string
  /** The executor's private index for `dir`. */
  indexFile: string
  branch: string
  forkUrl: string
  /** Upstream's default branch head the task is based on. */
  upstreamHead: string
  /** Where the task branch starts: upstream's head, or a WIP head. */
  start: string
  /** The WIP branch it continues from, if any. */
  resumedFrom: (WipRef & { commit: string }) | undefined
}

export interface Workspaces {
  prepare: (init: PrepareInit) => Promise<Workspace>
  /** A commit of the work tree on top of `parent` (`.bzzz/` left out); `undefined` when the tree equals the parent's. */
  snapshot: (ws: Workspace, parent: string, message: string, signal?: AbortSignal) => Promise<string | undefined>
  /** Pushes `commit` to the fork's task branch (from the cache, with the token in the environment). */
  push: (ws: Workspace, commit: string, signal?: AbortSignal) => Promise<void>
  /** Whether `commit`'s tree differs from `other`'s. */
  differs: (ws: Workspace, commit: string, other: string, signal?: AbortSignal) => Promise<boolean>
  /** Frees the workspace's slot for the next task (its files stay, for a warm checkout). */
  release: (ws: Workspace) => void
}

function safe (s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9._-]/g, '_')
}

/** The git base of a clone URL: `https://github.com/a/b.git` → `https://github.com`. */
export function gitBaseOf (cloneUrl: string, fullName: string): string {
  const suffix = `/${fullName}.git`
  return cloneUrl.endsWith(suffix) ? cloneUrl.slice(0, -suffix.length) : new URL(cloneUrl).origin
}

const exists = async (p: string): Promise<boolean> => await access(p).then(() => true, () => false)

export function createWorkspaces (init: WorkspaceInit): Workspaces {
  const locks = new Map<string, Promise<unknown>>()
  const busy = new Set<string>()
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
  // The executor's view of a workspace: the cache as git dir, the private index, no hooks.
  const onTree = (ws: Pick<Workspace, 'cacheDir' | 'dir'>, args: string[]): string[] =>
    ['--git-dir', ws.cacheDir, '--work-tree', ws.dir, '-c', 'core.hooksPath=/dev/null', ...args]

  const fetchCache = async (p: PrepareInit, cacheDir: string): Promise<Pick<Workspace, 'upstreamHead' | 'start' | 'resumedFrom'>> => {
    const [, name] = p.upstream.split('/') as [string, string]
    const base = gitBaseOf(p.fork.cloneUrl, p.fork.fullName)
    const main = p.fork.defaultBranch
    const auth = init.gitEnv()
    await mkdir(cacheDir, { recursive: true })
    if (!await exists(join(cacheDir, 'HEAD'))) {
      await run(['init', '-q', '--bare'], cacheDir, p.signal)
      await run(['remote', 'add', 'upstream', `${base}/${p.upstream}.git`], cacheDir, p.signal)
      await run(['remote', 'add', 'fork', p.fork.cloneUrl], cacheDir, p.signal)
      await appendFile(join(cacheDir, 'info', 'exclude'), '\n/.bzzz/\n')
    } else {
      await run(['remote', 'set-url', 'fork', p.fork.cloneUrl], cacheDir, p.signal)
    }
    // Upstream's default branch, and this node's own branch for the task where it exists
    // (a glob refspec: a missing branch is not an error).
    await run(['fetch', '-q', '--no-tags', 'upstream', `+refs/heads/${main}:refs/remotes/upstream/${main}`], cacheDir, p.signal, auth)
    await run(['fetch', '-q', '--no-tags', 'fork', `+refs/heads/${p.branch}*:refs/remotes/fork/${p.branch}*`], cacheDir, p.signal, auth)
    const upstreamHead = (await run(['rev-parse', `refs/remotes/upstream/${main}`], cacheDir, p.signal)).trim()
    const resolve = async (ref: string): Promise<string | undefined> => {
      try {
        return (await run(['rev-parse', '--verify', '-q', `${ref}^{commit}`], cacheDir, p.signal)).trim()
      } catch {
        return undefined
      }
    }
    let resumedFrom: Workspace['resumedFrom']
    if (p.wipFrom !== undefined) {
      const ref = `refs/remotes/wip/${safe(p.wipFrom.owner)}/${p.wipFrom.branch}`
      try {
        await run(['fetch', '-q', '--no-tags', `${base}/${p.wipFrom.owner}/${p.wipFrom.repo ?? name}.git`, `+refs/heads/${p.wipFrom.branch}:${ref}`], cacheDir, p.signal, auth)
        const commit = await resolve(ref)
        if (commit !== undefined) resumedFrom = { ...p.wipFrom, commit }
      } catch (err) {
        if (p.signal?.aborted === true) throw err
        // The other peer's branch is gone: start from this node's own, or afresh.
      }
    }
    if (resumedFrom === undefined) {
      const commit = await resolve(`refs/remotes/fork/${p.branch}`)
      if (commit !== undefined) resumedFrom = { owner: p.fork.owner, repo: p.fork.repo, branch: p.branch, commit }
    }
    return { upstreamHead, start: resumedFrom?.commit ?? upstreamHead, resumedFrom }
  }

  const prepare = async (p: PrepareInit): Promise<Workspace> => {
    const [owner, name] = p.upstream.split('/') as [string, string]
    const cacheDir = join(init.root, 'repos', safe(owner), `${safe(name)}.git`)
    const refs = await locked(cacheDir, async () => await fetchCache(p, cacheDir))
    // A free slot for this repository: an existing one is warm.
    let slot = 0
    while (busy.has(`${cacheDir}#${slot}`)) slot++
    const key = `${cacheDir}#${slot}`
    busy.add(key)
    try {
      const dir = join(init.root, 'tasks', `${safe(owner)}-${safe(name)}-${slot}`)
      const indexFile = join(init.root, 'index', `${safe(owner)}-${safe(name)}-${slot}`)
      await mkdir(dir, { recursive: true })
      await mkdir(join(init.root, 'index'), { recursive: true })
      const ws: Workspace = { dir, cacheDir, indexFile, branch: p.branch, forkUrl: p.fork.cloneUrl, ...refs }
      const env = { GIT_INDEX_FILE: indexFile }
      // The agent's `.git` from the last task goes first: nothing of it is trusted or kept.
      await rm(join(dir, '.git'), { recursive: true, force: true })
      await run(onTree(ws, ['read-tree', '-u', '--reset', ws.start]), dir, p.signal, env)
      await run(onTree(ws, ['clean', '-q', '-ffdx']), dir, p.signal, env)
      // A fresh `.git` for the agent: the task branch, the cache's objects, the fork as origin (no credentials).
      const gitDir = join(dir, '.git')
      await run(['init', '-q', '-b', p.branch], dir, p.signal)
      await writeFile(join(gitDir, 'objects', 'info', 'alternates'), `${join(cacheDir, 'objects')}\n`)
      await run(['update-ref', `refs/heads/${p.branch}`, ws.start], dir, p.signal)
      await run(['remote', 'add', 'origin', p.fork.cloneUrl], dir, p.signal)
      await copyFile(indexFile, join(gitDir, 'index'))
      await appendFile(join(gitDir, 'info', 'exclude'), '\n/.bzzz/\n')
      return ws
    } catch (err) {
      busy.delete(key)
      throw err
    }
  }

  const snapshot = async (ws: Workspace, parent: string, message: string, signal?: AbortSignal): Promise<string | undefined> => {
    const env = { GIT_INDEX_FILE: ws.indexFile }
    await run(onTree(ws, ['add', '-A', '--', '.', ':(exclude).bzzz', ':(exclude).git']), ws.dir, signal, env)
    const tree = (await run(onTree(ws, ['write-tree']), ws.dir, signal, env)).trim()
    const parentTree = (await run(['--git-dir', ws.cacheDir, 'rev-parse', `${parent}^{tree}`], ws.dir, signal)).trim()
    if (tree === parentTree) return undefined
    return (await run(['--git-dir', ws.cacheDir, 'commit-tree', tree, '-p', parent, '-m', message], ws.dir, signal, identityEnv(init.identity))).trim()
  }

  const push = async (ws: Workspace, commit: string, signal?: AbortSignal): Promise<void> => {
    // The task branch is this node's own while it holds the claim: a WIP from another peer may replace it.
    await run(['--git-dir', ws.cacheDir, '-c', 'core.hooksPath=/dev/null', 'push', '-q', ws.forkUrl, `+${commit}:refs/heads/${ws.branch}`], ws.cacheDir, signal, init.gitEnv())
  }

  const differs = async (ws: Workspace, commit: string, other: string, signal?: AbortSignal): Promise<boolean> => {
    const [a, b] = await Promise.all([commit, other].map(async (c) => (await run(['--git-dir', ws.cacheDir, 'rev-parse', `${c}^{tree}`], ws.cacheDir, signal)).trim()))
    return a !== b
  }

  const release = (ws: Workspace): void => {
    const slot = /-(\d+)$/.exec(ws.dir)?.[1]
    if (slot !== undefined) busy.delete(`${ws.cacheDir}#${slot}`)
  }

  return { prepare, snapshot, push, differs, release }
}
