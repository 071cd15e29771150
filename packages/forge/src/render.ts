/**
 * JSON shapes of api.github.com (users, repositories, issues, comments, labels, pull
 * requests, branches, refs), built from the state model. The fidelity tests validate
 * each of them against GitHub's OpenAPI description.
 */
import type { ChangedFile } from './git.js'
import type { CommentRecord, ForgeState, IssueRecord, LabelRecord, OrgRecord, RepoRecord, UserRecord } from './state.js'

export const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
const nodeId = (kind: string, id: number): string => Buffer.from(`0:${kind}${id}`).toString('base64').replace(/=+$/, '')

export type Json = Record<string, unknown>

export interface CommitInfo {
  sha: string
  tree: string
  parents: string[]
  message: string
  author: { name: string, email: string, date: string }
  committer: { name: string, email: string, date: string }
}

export class Renderer {
  constructor (private readonly state: ForgeState, private readonly baseUrl: string) {}

  get api (): string {
    return this.baseUrl
  }

  user (u: UserRecord | string): Json {
    const rec = typeof u === 'string' ? this.state.user(u) : u
    if (rec == null) throw new Error(`unknown user ${String(u)}`)
    const api = `${this.baseUrl}/users/${rec.login}`
    return {
      login: rec.login,
      id: rec.id,
      node_id: nodeId(rec.type === 'User' ? 'U' : 'O', rec.id),
      avatar_url: `${this.baseUrl}/avatars/${rec.login}`,
      gravatar_id: '',
      url: api,
      html_url: `${this.baseUrl}/${rec.login}`,
      followers_url: `${api}/followers`,
      following_url: `${api}/following{/other_user}`,
      gists_url: `${api}/gists{/gist_id}`,
      starred_url: `${api}/starred{/owner}{/repo}`,
      subscriptions_url: `${api}/subscriptions`,
      organizations_url: `${api}/orgs`,
      repos_url: `${api}/repos`,
      events_url: `${api}/events{/privacy}`,
      received_events_url: `${api}/received_events`,
      type: rec.type,
      user_view_type: 'public',
      site_admin: false
    }
  }

  /** `GET /users/{login}` (public-user) or, with `own`, `GET /user` (private-user). */
  fullUser (u: UserRecord, own: boolean): Json {
    const publicRepos = [...this.state.repos.values()].filter((r) => r.owner.toLowerCase() === u.login.toLowerCase()).length
    const out: Json = {
      ...this.user(u),
      name: u.name,
      company: null,
      blog: '',
      location: null,
      email: u.email,
      hireable: null,
      bio: null,
      twitter_username: null,
      public_repos: publicRepos,
      public_gists: 0,
      followers: 0,
      following: 0,
      created_at: iso(u.createdAt),
      updated_at: iso(u.createdAt)
    }
    if (own) {
      Object.assign(out, {
        private_gists: 0,
        total_private_repos: 0,
        owned_private_repos: 0,
        disk_usage: 0,
        collaborators: 0,
        two_factor_authentication: false,
        plan: { name: 'free', space: 976562499, private_repos: 10000, collaborators: 0 }
      })
    }
    return out
  }

  repo (r: RepoRecord, viewer?: string, withParents = true): Json {
    const api = `${this.baseUrl}/repos/${r.owner}/${r.name}`
    const owner = this.state.user(r.owner)
    if (owner == null) throw new Error(`unknown owner ${r.owner}`)
    const openIssues = [...r.issues.values()].filter((i) => i.state === 'open').length
    const perm = this.state.permission(r, viewer)
    const out: Json = {
      id: r.id,
      node_id: nodeId('R', r.id),
      name: r.name,
      full_name: `${r.owner}/${r.name}`,
      private: false,
      owner: this.user(owner),
      html_url: `${this.baseUrl}/${r.owner}/${r.name}`,
      description: r.description,
      fork: r.parent != null,
      url: api,
      forks_url: `${api}/forks`,
      keys_url: `${api}/keys{/key_id}`,
      collaborators_url: `${api}/collaborators{/collaborator}`,
      teams_url: `${api}/teams`,
      hooks_url: `${api}/hooks`,
      issue_events_url: `${api}/issues/events{/number}`,
      events_url: `${api}/events`,
      assignees_url: `${api}/assignees{/user}`,
      branches_url: `${api}/branches{/branch}`,
      tags_url: `${api}/tags`,
      blobs_url: `${api}/git/blobs{/sha}`,
      git_tags_url: `${api}/git/tags{/sha}`,
      git_refs_url: `${api}/git/refs{/sha}`,
      trees_url: `${api}/git/trees{/sha}`,
      statuses_url: `${api}/statuses/{sha}`,
      languages_url: `${api}/languages`,
      stargazers_url: `${api}/stargazers`,
      contributors_url: `${api}/contributors`,
      subscribers_url: `${api}/subscribers`,
      subscription_url: `${api}/subscription`,
      commits_url: `${api}/commits{/sha}`,
      git_commits_url: `${api}/git/commits{/sha}`,
      comments_url: `${api}/comments{/number}`,
      issue_comment_url: `${api}/issues/comments{/number}`,
      contents_url: `${api}/contents/{+path}`,
      compare_url: `${api}/compare/{base}...{head}`,
      merges_url: `${api}/merges`,
      archive_url: `${api}/{archive_format}{/ref}`,
      downloads_url: `${api}/downloads`,
      issues_url: `${api}/issues{/number}`,
      pulls_url: `${api}/pulls{/number}`,
      milestones_url: `${api}/milestones{/number}`,
      notifications_url: `${api}/notifications{?since,all,participating}`,
      labels_url: `${api}/labels{/name}`,
      releases_url: `${api}/releases{/id}`,
      deployments_url: `${api}/deployments`,
      created_at: iso(r.createdAt),
      updated_at: iso(r.updatedAt),
      pushed_at: iso(r.pushedAt),
      git_url: `git://${new URL(this.baseUrl).host}/${r.owner}/${r.name}.git`,
      ssh_url: `git@${new URL(this.baseUrl).hostname}:${r.owner}/${r.name}.git`,
      clone_url: `${this.baseUrl}/${r.owner}/${r.name}.git`,
      svn_url: `${this.baseUrl}/${r.owner}/${r.name}`,
      homepage: null,
      size: r.gitReady ? r.sizeKb : 0,
      stargazers_count: 0,
      watchers_count: 0,
      language: null,
      has_issues: r.hasIssues,
      has_projects: true,
      has_downloads: true,
      has_wiki: true,
      has_pages: false,
      has_discussions: false,
      forks_count: r.forks.length,
      mirror_url: null,
      archived: false,
      disabled: false,
      open_issues_count: openIssues,
      license: null,
      allow_forking: true,
      is_template: false,
      web_commit_signoff_required: false,
      topics: [],
      visibility: 'public',
      forks: r.forks.length,
      open_issues: openIssues,
      watchers: 0,
      default_branch: r.defaultBranch,
      permissions: {
        admin: perm === 'admin',
        maintain: perm === 'admin',
        push: perm === 'admin' || perm === 'write',
        triage: perm !== 'read',
        pull: true
      },
      network_count: [...this.state.repos.values()].filter((x) => x.source === r.source).length - 1,
      subscribers_count: 0
    }
    if (withParents && r.parent != null) {
      out.parent = this.repo(this.state.repoByKey(r.parent), viewer, false)
      out.source = this.repo(this.state.repoByKey(r.source), viewer, false)
    }
    const org = this.state.orgs.get(r.owner.toLowerCase())
    if (withParents && org != null) out.organization = this.user(org)
    return out
  }

  label (repo: RepoRecord, l: LabelRecord): Json {
    return {
      id: l.id,
      node_id: nodeId('LA', l.id),
      url: `${this.baseUrl}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(l.name)}`,
      name: l.name,
      color: l.color,
      default: false,
      description: l.description
    }
  }

  private issueUrls (repo: RepoRecord, i: IssueRecord): { api: string, html: string, repoApi: string } {
    const repoApi = `${this.baseUrl}/repos/${repo.owner}/${repo.name}`
    return { repoApi, api: `${repoApi}/issues/${i.number}`, html: `${this.baseUrl}/${repo.owner}/${repo.name}/${i.pull != null ? 'pull' : 'issues'}/${i.number}` }
  }

  issue (repo: RepoRecord, i: IssueRecord): Json {
    const { api, html, repoApi } = this.issueUrls(repo, i)
    const assignees = i.assignees.map((a) => this.user(a))
    const out: Json = {
      url: api,
      repository_url: repoApi,
      labels_url: `${api}/labels{/name}`,
      comments_url: `${api}/comments`,
      events_url: `${api}/events`,
      html_url: html,
      id: i.id,
      node_id: nodeId(i.pull != null ? 'PR' : 'I', i.id),
      number: i.number,
      title: i.title,
      user: this.user(i.author),
      labels: this.state.issueLabels(repo, i).map((l) => this.label(repo, l)),
      state: i.state,
      locked: false,
      assignee: assignees[0] ?? null,
      assignees,
      milestone: null,
      comments: i.comments,
      created_at: iso(i.createdAt),
      updated_at: iso(i.updatedAt),
      closed_at: i.closedAt == null ? null : iso(i.closedAt),
      author_association: this.state.association(repo, i.author),
      active_lock_reason: null,
      body: i.body,
      closed_by: i.closedBy == null ? null : this.user(i.closedBy),
      reactions: this.reactions(`${api}/reactions`),
      timeline_url: `${api}/timeline`,
      performed_via_github_app: null,
      state_reason: i.stateReason
    }
    if (i.pull != null) {
      const prApi = `${repoApi}/pulls/${i.number}`
      out.draft = i.pull.draft
      out.pull_request = { url: prApi, html_url: html, diff_url: `${html}.diff`, patch_url: `${html}.patch`, merged_at: null }
    }
    return out
  }

  private reactions (url: string): Json {
    return { url, total_count: 0, '+1': 0, '-1': 0, laugh: 0, hooray: 0, confused: 0, heart: 0, rocket: 0, eyes: 0 }
  }

  comment (repo: RepoRecord, c: CommentRecord): Json {
    const repoApi = `${this.baseUrl}/repos/${repo.owner}/${repo.name}`
    const issue = repo.issues.get(c.issueNumber)
    const kind = issue?.pull != null ? 'pull' : 'issues'
    return {
      url: `${repoApi}/issues/comments/${c.id}`,
      html_url: `${this.baseUrl}/${repo.owner}/${repo.name}/${kind}/${c.issueNumber}#issuecomment-${c.id}`,
      issue_url: `${repoApi}/issues/${c.issueNumber}`,
      id: c.id,
      node_id: nodeId('IC', c.id),
      user: this.user(c.author),
      created_at: iso(c.createdAt),
      updated_at: iso(c.updatedAt),
      author_association: this.state.association(repo, c.author),
      body: c.body,
      reactions: this.reactions(`${repoApi}/issues/comments/${c.id}/reactions`),
      performed_via_github_app: null
    }
  }

  private prSide (repo: RepoRecord, ref: string, sha: string, viewer?: string): Json {
    return { label: `${repo.owner}:${ref}`, ref, sha, user: this.user(repo.owner), repo: this.repo(repo, viewer, false) }
  }

  /** A pull request; `full` adds the fields of `GET /pulls/{n}` over those of the list. */
  pull (repo: RepoRecord, i: IssueRecord, full: boolean, viewer?: string): Json {
    const p = i.pull
    if (p == null) throw new Error('not a pull request')
    const repoApi = `${this.baseUrl}/repos/${repo.owner}/${repo.name}`
    const api = `${repoApi}/pulls/${i.number}`
    const html = `${this.baseUrl}/${repo.owner}/${repo.name}/pull/${i.number}`
    const issueApi = `${repoApi}/issues/${i.number}`
    const assignees = i.assignees.map((a) => this.user(a))
    const out: Json = {
      url: api,
      id: i.id,
      node_id: nodeId('PR', i.id),
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: issueApi,
      number: i.number,
      state: i.state,
      locked: false,
      title: i.title,
      user: this.user(i.author),
      body: i.body,
      created_at: iso(i.createdAt),
      updated_at: iso(i.updatedAt),
      closed_at: i.closedAt == null ? null : iso(i.closedAt),
      merged_at: null,
      merge_commit_sha: null,
      assignee: assignees[0] ?? null,
      assignees,
      requested_reviewers: [],
      requested_teams: [],
      labels: this.state.issueLabels(repo, i).map((l) => this.label(repo, l)),
      milestone: null,
      draft: p.draft,
      commits_url: `${api}/commits`,
      review_comments_url: `${api}/comments`,
      review_comment_url: `${repoApi}/pulls/comments{/number}`,
      comments_url: `${issueApi}/comments`,
      statuses_url: `${repoApi}/statuses/${p.headSha}`,
      head: this.prSide(this.state.repoByKey(p.headRepo), p.headRef, p.headSha, viewer),
      base: this.prSide(repo, p.baseRef, p.baseSha, viewer),
      _links: {
        self: { href: api },
        html: { href: html },
        issue: { href: issueApi },
        comments: { href: `${issueApi}/comments` },
        review_comments: { href: `${api}/comments` },
        review_comment: { href: `${repoApi}/pulls/comments{/number}` },
        commits: { href: `${api}/commits` },
        statuses: { href: `${repoApi}/statuses/${p.headSha}` }
      },
      author_association: this.state.association(repo, i.author),
      auto_merge: null,
      active_lock_reason: null
    }
    if (full) {
      Object.assign(out, {
        merged: p.merged,
        mergeable: null,
        rebaseable: null,
        mergeable_state: 'unknown',
        merged_by: null,
        comments: i.comments,
        review_comments: 0,
        maintainer_can_modify: p.maintainerCanModify,
        commits: 1,
        additions: 0,
        deletions: 0,
        changed_files: 0
      })
    }
    return out
  }

  /** An organisation, as `GET /orgs/{org}` answers (organization-full). */
  org (o: OrgRecord): Json {
    const api = `${this.baseUrl}/orgs/${o.login}`
    return {
      login: o.login,
      id: o.id,
      node_id: nodeId('O', o.id),
      url: api,
      repos_url: `${api}/repos`,
      events_url: `${api}/events`,
      hooks_url: `${api}/hooks`,
      issues_url: `${api}/issues`,
      members_url: `${api}/members{/member}`,
      public_members_url: `${api}/public_members{/member}`,
      avatar_url: `${this.baseUrl}/avatars/${o.login}`,
      description: null,
      // GitHub's description has these as plain strings (not nullable): left out when unset.
      ...(o.name != null ? { name: o.name } : {}),
      ...(o.email != null ? { email: o.email } : {}),
      is_verified: false,
      has_organization_projects: false,
      has_repository_projects: false,
      public_repos: [...this.state.repos.values()].filter((r) => r.owner.toLowerCase() === o.login.toLowerCase()).length,
      public_gists: 0,
      followers: 0,
      following: 0,
      html_url: `${this.baseUrl}/${o.login}`,
      type: 'Organization',
      created_at: iso(o.createdAt),
      updated_at: iso(o.createdAt),
      archived_at: null
    }
  }

  /** One file of a pull request (diff-entry). */
  file (repo: RepoRecord, headSha: string, f: ChangedFile): Json {
    const path = f.filename.split('/').map(encodeURIComponent).join('/')
    return {
      sha: f.sha,
      filename: f.filename,
      status: f.status,
      additions: f.additions,
      deletions: f.deletions,
      changes: f.additions + f.deletions,
      blob_url: `${this.baseUrl}/${repo.owner}/${repo.name}/blob/${headSha}/${path}`,
      raw_url: `${this.baseUrl}/${repo.owner}/${repo.name}/raw/${headSha}/${path}`,
      contents_url: `${this.baseUrl}/repos/${repo.owner}/${repo.name}/contents/${path}?ref=${headSha}`
    }
  }

  commit (repo: RepoRecord, c: CommitInfo): Json {
    const repoApi = `${this.baseUrl}/repos/${repo.owner}/${repo.name}`
    return {
      sha: c.sha,
      node_id: nodeId('C', parseInt(c.sha.slice(0, 8), 16)),
      commit: {
        author: c.author,
        committer: c.committer,
        message: c.message,
        tree: { sha: c.tree, url: `${repoApi}/git/trees/${c.tree}` },
        url: `${repoApi}/git/commits/${c.sha}`,
        comment_count: 0,
        verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null }
      },
      url: `${repoApi}/commits/${c.sha}`,
      html_url: `${this.baseUrl}/${repo.owner}/${repo.name}/commit/${c.sha}`,
      comments_url: `${repoApi}/commits/${c.sha}/comments`,
      author: null,
      committer: null,
      parents: c.parents.map((p) => ({ sha: p, url: `${repoApi}/commits/${p}`, html_url: `${this.baseUrl}/${repo.owner}/${repo.name}/commit/${p}` }))
    }
  }

  branch (repo: RepoRecord, name: string, c: CommitInfo): Json {
    const api = `${this.baseUrl}/repos/${repo.owner}/${repo.name}/branches/${name}`
    return {
      name,
      commit: this.commit(repo, c),
      _links: { self: api, html: `${this.baseUrl}/${repo.owner}/${repo.name}/tree/${name}` },
      protected: repo.denyForcePush,
      protection: { enabled: repo.denyForcePush, required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] } },
      protection_url: `${api}/protection`
    }
  }

  shortBranch (repo: RepoRecord, name: string, sha: string): Json {
    return { name, commit: { sha, url: `${this.baseUrl}/repos/${repo.owner}/${repo.name}/commits/${sha}` }, protected: repo.denyForcePush }
  }

  ref (repo: RepoRecord, ref: string, sha: string): Json {
    const api = `${this.baseUrl}/repos/${repo.owner}/${repo.name}`
    return {
      ref,
      node_id: nodeId('REF', repo.id),
      url: `${api}/git/${ref}`,
      object: { sha, type: 'commit', url: `${api}/git/commits/${sha}` }
    }
  }
}
