/**
 * The git side of the forge: bare repositories on disk, driven by the git CLI — always
 * asynchronously (a synchronous git inside the server's process would block the very
 * server that has to answer it) — and served over smart HTTP by `git http-backend`.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { GitError } from './errors.js'
import type { CommitInfo } from './render.js'

export const ZERO_SHA = '0000000000000000000000000000000000000000'

/** An environment for git that ignores the machine's and the user's configuration. */
export function gitEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
    ...extra
  }
}

export interface GitRunOptions {
  cwd?: string
  input?: string | Buffer
  env?: Record<string, string>
  signal?: AbortSignal
  /** Exit codes that are answers rather than failures (e.g. 1 for `merge-base --is-ancestor`). */
  okCodes?: number[]
}

export interface GitResult {
  stdout: string
  code: number
}

/** Run git asynchronously and collect its output. Throws `GitError` on an unexpected exit code. */
export async function git (args: string[], options: GitRunOptions = {}): Promise<GitResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: gitEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.signal != null ? { signal: options.signal } : {})
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8')
      if (code === 0 || (code != null && (options.okCodes ?? []).includes(code))) resolve({ stdout, code })
      else reject(new GitError(args, code, Buffer.concat(err).toString('utf8')))
    })
    child.stdin.on('error', () => {})
    child.stdin.end(options.input ?? '')
  })
}

/** Run tasks one after another per key (receive-pack and ref updates of one repository). */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>()

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve()
    const next = prev.then(task, task)
    const tail = next.catch(() => {})
    this.tails.set(key, tail)
    void tail.then(() => { if (this.tails.get(key) === tail) this.tails.delete(key) })
    return await next
  }

  /** Resolves when every queued task has finished. */
  async idle (): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()])
  }
}

const IDENTITY = { GIT_AUTHOR_NAME: 'Forge', GIT_AUTHOR_EMAIL: 'forge@localhost', GIT_COMMITTER_NAME: 'Forge', GIT_COMMITTER_EMAIL: 'forge@localhost' }

async function configure (path: string, denyForcePush: boolean): Promise<void> {
  // http.receivepack: allow pushes over HTTP (the forge authenticates them itself).
  await git(['config', 'http.receivepack', 'true'], { cwd: path })
  await git(['config', 'receive.denyNonFastForwards', denyForcePush ? 'true' : 'false'], { cwd: path })
  await git(['config', 'uploadpack.allowAnySHA1InWant', 'true'], { cwd: path })
  await git(['config', 'gc.auto', '0'], { cwd: path })
  // As on GitHub, refs/pull/* are read-only to pushes.
  await git(['config', 'receive.hideRefs', 'refs/pull'], { cwd: path })
}

/** Create a bare repository, with one commit holding `files` when there are any. */
export async function initRepo (path: string, init: { defaultBranch: string, files?: Record<string, string>, author?: { name: string, email: string }, denyForcePush?: boolean }): Promise<void> {
  await mkdir(path, { recursive: true })
  await git(['init', '--bare', '--quiet', `--initial-branch=${init.defaultBranch}`, path])
  await configure(path, init.denyForcePush ?? false)
  const files = Object.entries(init.files ?? {})
  if (files.length === 0) return
  const env = init.author == null
    ? IDENTITY
    : { GIT_AUTHOR_NAME: init.author.name, GIT_AUTHOR_EMAIL: init.author.email, GIT_COMMITTER_NAME: init.author.name, GIT_COMMITTER_EMAIL: init.author.email }
  // Build the tree with a temporary index, so nested paths work.
  const index = join(path, 'forge-seed-index')
  for (const [file, content] of files) {
    const blob = (await git(['hash-object', '-w', '--stdin'], { cwd: path, input: content })).stdout.trim()
    await git(['update-index', '--add', '--cacheinfo', `100644,${blob},${file}`], { cwd: path, env: { GIT_INDEX_FILE: index } })
  }
  const tree = (await git(['write-tree'], { cwd: path, env: { GIT_INDEX_FILE: index } })).stdout.trim()
  const commit = (await git(['commit-tree', tree, '-m', 'Initial commit'], { cwd: path, env })).stdout.trim()
  await git(['update-ref', `refs/heads/${init.defaultBranch}`, commit, ZERO_SHA], { cwd: path })
  await writeFile(index, '').catch(() => {})
}

/**
 * Copy a repository's branches and tags into a new bare repository (a fork). Through git's
 * transport, not a copy of the object files: a parent borrows its forks' objects (alternates),
 * and a file copy would hand each new fork the list of every earlier one (each push to it
 * would then run git once per earlier fork, to advertise their refs).
 */
export async function cloneBare (from: string, to: string, denyForcePush = false): Promise<void> {
  await git(['clone', '--bare', '--quiet', '--no-local', from, to])
  await configure(to, denyForcePush)
}

/** Branch name -> sha. */
export async function readHeads (path: string): Promise<Map<string, string>> {
  const { stdout } = await git(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads/'], { cwd: path })
  const heads = new Map<string, string>()
  for (const line of stdout.split('\n')) {
    const m = /^([0-9a-f]{40}) refs\/heads\/(.+)$/.exec(line)
    if (m?.[1] != null && m[2] != null) heads.set(m[2], m[1])
  }
  return heads
}

export async function readCommit (path: string, sha: string): Promise<CommitInfo | undefined> {
  const r = await git(['cat-file', 'commit', sha], { cwd: path, okCodes: [1, 128] })
  if (r.code !== 0) return undefined
  const [head = '', ...rest] = r.stdout.split('\n\n')
  const info: CommitInfo = { sha, tree: '', parents: [], message: rest.join('\n\n'), author: { name: '', email: '', date: '' }, committer: { name: '', email: '', date: '' } }
  for (const line of head.split('\n')) {
    const [k, ...v] = line.split(' ')
    const value = v.join(' ')
    if (k === 'tree') info.tree = value
    else if (k === 'parent') info.parents.push(value)
    else if (k === 'author' || k === 'committer') {
      const m = /^(.*) <(.*)> (\d+) ([+-]\d{4})$/.exec(value)
      if (m != null) info[k] = { name: m[1] ?? '', email: m[2] ?? '', date: new Date(Number(m[3]) * 1000).toISOString().replace('.000Z', 'Z') }
    }
  }
  return info
}

export async function objectExists (path: string, sha: string): Promise<boolean> {
  const r = await git(['cat-file', '-e', `${sha}^{commit}`], { cwd: path, okCodes: [1, 128] })
  return r.code === 0
}

export async function isAncestor (path: string, ancestor: string, descendant: string): Promise<boolean> {
  const r = await git(['merge-base', '--is-ancestor', ancestor, descendant], { cwd: path, okCodes: [1] })
  return r.code === 0
}

/**
 * Whether `ancestor` is an ancestor of `descendant` in the repository at `path`; undefined when
 * either commit is not there (not fetched, nor in a repository it borrows objects from).
 */
export async function ancestry (path: string, ancestor: string, descendant: string): Promise<boolean | undefined> {
  const r = await git(['merge-base', '--is-ancestor', ancestor, descendant], { cwd: path, okCodes: [1, 128] })
  return r.code === 0 ? true : r.code === 1 ? false : undefined
}

/**
 * Lets the repository at `path` read the objects of the repository at `from` (git's alternates),
 * as a fork network shares its objects on GitHub: a pull request from the fork, or a push to
 * its head branch, then needs no fetch into the parent. Repositories are never deleted here,
 * so the borrowed objects stay. Call it in `path`'s queue (it rewrites one file).
 */
export async function borrowObjects (path: string, from: string): Promise<void> {
  const file = join(path, 'objects', 'info', 'alternates')
  const line = join(resolve(from), 'objects')
  const old = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return ''; throw err })
  if (old.split('\n').includes(line)) return
  await mkdir(dirname(file), { recursive: true })
  // Written whole and renamed: a git process reading the file meanwhile sees the old list or the new.
  const tmp = `${file}.${randomUUID()}.tmp`
  await writeFile(tmp, `${old}${line}\n`)
  await rename(tmp, file)
}

/**
 * Update a ref atomically: `expectOld` is the sha it must have now, or ZERO_SHA when it
 * must not exist yet. Returns false when the ref was not as expected.
 */
export async function updateRef (path: string, ref: string, sha: string, expectOld?: string): Promise<boolean> {
  const args = ['update-ref', ref, sha]
  if (expectOld != null) args.push(expectOld)
  const r = await git(args, { cwd: path, okCodes: [1, 128] })
  return r.code === 0
}

export async function deleteRef (path: string, ref: string): Promise<boolean> {
  const r = await git(['update-ref', '-d', ref], { cwd: path, okCodes: [1, 128] })
  return r.code === 0
}

/**
 * Fetch one commit (and what it needs) of the repository at `from` into `to`, under no ref: the
 * caller names it next (no temporary ref to write and delete). Every forge repository allows
 * any commit to be asked for (`uploadpack.allowAnySHA1InWant`).
 */
export async function fetchCommit (to: string, from: string, sha: string): Promise<void> {
  await git(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', from, sha], { cwd: to })
}

/** Fetch `ref` of the repository at `from` into `to` as `dest`. */
export async function fetchInto (to: string, from: string, ref: string, dest: string): Promise<void> {
  await git(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', from, `+${ref}:${dest}`], { cwd: to })
}

/**
 * Serve one smart-HTTP request with `git http-backend` (CGI). `pathInfo` is
 * `/<dir>/info/refs`, `/<dir>/git-upload-pack` or `/<dir>/git-receive-pack`, relative
 * to `projectRoot`. Resolves when the response has been written in full; `beforeEnd`
 * runs after git exits and before the response ends (the forge updates its state there,
 * so a client's push returns only once the API shows it).
 */
export async function serveHttpBackend (req: IncomingMessage, res: ServerResponse, init: {
  projectRoot: string
  pathInfo: string
  query: string
  remoteUser?: string
  beforeEnd?: () => Promise<void>
}): Promise<void> {
  const env = gitEnv({
    GIT_PROJECT_ROOT: init.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: init.pathInfo,
    REQUEST_METHOD: req.method ?? 'GET',
    QUERY_STRING: init.query,
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    ...(init.remoteUser != null ? { REMOTE_USER: init.remoteUser } : {}),
    ...(req.headers['content-length'] != null ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
    ...(req.headers['content-encoding'] != null ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
    ...(typeof req.headers['git-protocol'] === 'string' ? { GIT_PROTOCOL: req.headers['git-protocol'] } : {})
  })
  await new Promise<void>((resolve, reject) => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let headerBuf = Buffer.alloc(0)
    let headersDone = false
    const stderr: Buffer[] = []
    child.stderr.on('data', (b: Buffer) => stderr.push(b))
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) { res.write(chunk); return }
      headerBuf = Buffer.concat([headerBuf, chunk])
      let sep = headerBuf.indexOf('\r\n\r\n')
      let sepLen = 4
      if (sep < 0) { sep = headerBuf.indexOf('\n\n'); sepLen = 2 }
      if (sep < 0) return
      headersDone = true
      let status = 200
      for (const line of headerBuf.subarray(0, sep).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':')
        if (i < 0) continue
        const name = line.slice(0, i).trim()
        const value = line.slice(i + 1).trim()
        if (name.toLowerCase() === 'status') status = parseInt(value, 10) || 200
        else res.setHeader(name, value)
      }
      res.statusCode = status
      const rest = headerBuf.subarray(sep + sepLen)
      if (rest.length > 0) res.write(rest)
    })
    child.on('error', reject)
    // A client that goes away mid-request never ends the request body: without this the child
    // (and the receive-pack it runs, which holds the repository's push queue) would wait for ever.
    let exited = false
    const abandon = (): void => {
      if (exited) return
      child.stdin.destroy()
      child.kill('SIGTERM')
    }
    req.on('error', abandon)
    res.on('close', () => { if (!res.writableFinished) abandon() })
    child.on('close', (code) => {
      exited = true
      const finish = (): void => {
        if (!headersDone) {
          if (!res.headersSent) res.statusCode = 500
          res.end(code === 0 ? '' : 'git http-backend failed\n')
        } else res.end()
        resolve()
      }
      if (init.beforeEnd != null) init.beforeEnd().then(finish, finish)
      else finish()
    })
    child.stdin.on('error', () => {})
    req.pipe(child.stdin)
  })
}

/** One file a pull request changes (what `GET …/pulls/{n}/files` lists). */
export interface ChangedFile {
  filename: string
  status: 'added' | 'removed' | 'modified'
  /** The blob of the file at the head (at the base, for a removed file). */
  sha: string
  additions: number
  deletions: number
}

/**
 * The files changed from the merge base of `base` and `head` to `head` (GitHub's three-dot
 * comparison), in path order. Renames appear as a removal and an addition.
 */
export async function diffFiles (path: string, base: string, head: string): Promise<ChangedFile[]> {
  const range = `${base}...${head}`
  const raw = (await git(['diff', '--raw', '--no-abbrev', '--no-renames', '-z', range], { cwd: path })).stdout.split('\0')
  const files = new Map<string, ChangedFile>()
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const m = /^:\d+ \d+ ([0-9a-f]+) ([0-9a-f]+) ([A-Z])/.exec(raw[i] ?? '')
    const filename = raw[i + 1] ?? ''
    if (m == null) continue
    const status = m[3] === 'A' ? 'added' : m[3] === 'D' ? 'removed' : 'modified'
    files.set(filename, { filename, status, sha: (status === 'removed' ? m[1] : m[2]) ?? '', additions: 0, deletions: 0 })
  }
  const numstat = (await git(['diff', '--numstat', '--no-renames', '-z', range], { cwd: path })).stdout.split('\0')
  for (const line of numstat) {
    const m = /^(\d+|-)\t(\d+|-)\t(.*)$/s.exec(line)
    const f = m?.[3] != null ? files.get(m[3]) : undefined
    if (f == null || m == null) continue
    f.additions = m[1] === '-' ? 0 : Number(m[1])
    f.deletions = m[2] === '-' ? 0 : Number(m[2])
  }
  return [...files.values()].sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0))
}

/** The commits reachable from `head` but not from `base`, oldest first, at most `max`. */
export async function commitsBetween (path: string, base: string, head: string, max = 250): Promise<string[]> {
  const out = (await git(['rev-list', '--reverse', '--topo-order', `${base}..${head}`], { cwd: path })).stdout.split('\n').filter((l) => l !== '')
  return out.slice(0, max)
}
