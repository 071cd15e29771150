/**
 * Git-backed operations of the forge's state: following a repository's refs after a push or
 * an API ref change (branches, webhooks, pull request heads), creating a repository on disk,
 * seeding issues and copying a fork's objects in the background.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { borrowObjects, cloneBare, fetchInto, initRepo, readCommit, readHeads, updateRef, ZERO_SHA } from './git.js'
import type { Json } from './render.js'
import type { ForgeCore } from './routes/common.js'
import type { IssueRecord, RepoRecord, UserRecord } from './state.js'
import type { SeedIssue, SeedRepo } from './types.js'

export interface RepoSync {
  refreshRefs: (repo: RepoRecord, pusher?: UserRecord) => Promise<void>
  createRepoOnDisk: (spec: SeedRepo) => Promise<RepoRecord>
  seedIssue: (repo: RepoRecord, i: SeedIssue) => IssueRecord
  startFork: (parent: RepoRecord, fork: RepoRecord) => void
}

export function repoSync (f: ForgeCore): RepoSync {
  const { state, webhooks, events, gitQueue, path, track, now, forkDelayMs } = f

  /** Re-read a repository's branches after its refs changed, and follow pull request heads. */
  async function refreshRefs (repo: RepoRecord, pusher?: UserRecord): Promise<void> {
    const heads = await readHeads(path(repo))
    const changes = state.setBranches(repo, heads)
    const actor = pusher ?? state.user(repo.owner)
    const sender = actor != null ? f.render.user(actor) : undefined
    const repository = (): Json => f.render.repo(repo, undefined, false)
    for (const change of changes) {
      if (change.after == null) {
        webhooks.emit(repo.key, 'delete', () => ({ ref: change.ref, ref_type: 'branch', pusher_type: 'user', repository: repository(), sender }))
        events.emit('push', { owner: repo.owner, repo: repo.name, ref: `refs/heads/${change.ref}`, before: change.before, after: null, pusher: actor?.login ?? null })
        continue
      }
      if (change.before == null) {
        webhooks.emit(repo.key, 'create', () => ({
          ref: change.ref, ref_type: 'branch', master_branch: repo.defaultBranch, description: repo.description, pusher_type: 'user', repository: repository(), sender
        }))
      }
      const after = change.after
      events.emit('push', { owner: repo.owner, repo: repo.name, ref: `refs/heads/${change.ref}`, before: change.before, after, pusher: actor?.login ?? null })
      const head = webhooks.wants(repo.key, 'push') ? await readCommit(path(repo), after) : undefined
      const headCommit = head == null
        ? null
        : {
            id: head.sha, tree_id: head.tree, distinct: true, message: head.message, timestamp: head.committer.date,
            url: `${f.url}/${repo.owner}/${repo.name}/commit/${head.sha}`,
            author: { name: head.author.name, email: head.author.email }, committer: { name: head.committer.name, email: head.committer.email },
            added: [], removed: [], modified: []
          }
      webhooks.emit(repo.key, 'push', () => ({
        ref: `refs/heads/${change.ref}`, before: change.before ?? ZERO_SHA, after,
        created: change.before == null, deleted: false, forced: false, base_ref: null,
        compare: `${f.url}/${repo.owner}/${repo.name}/compare/${(change.before ?? ZERO_SHA).slice(0, 12)}...${after.slice(0, 12)}`,
        commits: headCommit == null ? [] : [headCommit], head_commit: headCommit,
        repository: repository(), pusher: { name: actor?.login ?? repo.owner, email: actor?.email ?? null }, sender
      }))
      for (const { repo: base, issue } of state.pullsWithHead(repo, change.ref)) {
        const before = issue.pull.headSha
        // Not through the base repository's queue: the caller may hold it already (a pull
        // request within one repository), and only this path writes refs/pull/N/head after
        // creation; updates of one head branch are serialised by the head repository's queue.
        // A fork's parent borrows its objects (see startFork): the ref is written at once; from
        // further away in the network, the commit is fetched first.
        if (!(await updateRef(path(base), `refs/pull/${issue.number}/head`, after)) && base !== repo) {
          await fetchInto(path(base), path(repo), `refs/heads/${change.ref}`, `refs/pull/${issue.number}/head`)
        }
        state.setPullHead(base, issue.number, after)
        webhooks.emit(base.key, 'pull_request', () => ({
          action: 'synchronize', number: issue.number, before, after, pull_request: f.render.pull(base, issue, true),
          repository: f.render.repo(base, undefined, false), sender
        }))
      }
    }
  }

  async function createRepoOnDisk (spec: SeedRepo): Promise<RepoRecord> {
    const repo = state.createRepo({
      owner: spec.owner,
      name: spec.name,
      ...(spec.defaultBranch != null ? { defaultBranch: spec.defaultBranch } : {}),
      ...(spec.description != null ? { description: spec.description } : {}),
      ...(spec.permissions != null ? { permissions: spec.permissions } : {}),
      ...(spec.labels != null ? { labels: spec.labels } : {}),
      ...(spec.denyForcePush != null ? { denyForcePush: spec.denyForcePush } : {})
    })
    const owner = state.user(spec.owner)
    await initRepo(path(repo), {
      defaultBranch: repo.defaultBranch,
      files: spec.files ?? {},
      denyForcePush: repo.denyForcePush,
      author: { name: owner?.name ?? spec.owner, email: owner?.email ?? `${spec.owner}@users.noreply.localhost` }
    })
    await refreshRefs(repo)
    repo.sizeKb = repo.branches.size > 0 ? 1 : 0
    for (const i of spec.issues ?? []) seedIssue(repo, i)
    return repo
  }

  function seedIssue (repo: RepoRecord, i: SeedIssue): IssueRecord {
    const issue = state.createIssue(repo, i.author, { title: i.title, body: i.body, labels: i.labels, assignees: i.assignees }, true)
    if (i.state === 'closed') state.updateIssue(repo, i.author, issue.number, { state: 'closed' }, true)
    return issue
  }

  function startFork (parent: RepoRecord, fork: RepoRecord): void {
    const readyAt = now() + forkDelayMs
    void track((async () => {
      await gitQueue.run(parent.key, async () => {
        await cloneBare(path(parent), path(fork))
        await borrowObjects(path(parent), path(fork))
      })
      const wait = readyAt - now()
      if (wait > 0) await sleep(wait)
      fork.gitReady = true
      fork.sizeKb = 1
      fork.branches = new Map()
      await gitQueue.run(fork.key, async () => { await refreshRefs(fork) })
      events.emit('fork-ready', { owner: fork.owner, repo: fork.name })
    })())
  }

  return { refreshRefs, createRepoOnDisk, seedIssue, startFork }
}
