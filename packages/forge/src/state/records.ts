/**
 * The forge state's records (users, organisations, repositories, issues, pull requests,
 * comments, labels), permission levels and the helpers every resource shares: versions kept
 * for lagging lists, and checks of request fields.
 */
import { validationFailed } from '../errors.js'
export type Permission = 'read' | 'triage' | 'write' | 'admin'
export type AuthorAssociation = 'OWNER' | 'MEMBER' | 'COLLABORATOR' | 'CONTRIBUTOR' | 'NONE'

export const LEVEL: Record<Permission, number> = { read: 1, triage: 2, write: 3, admin: 4 }

/** At least `needed`? */
export function atLeast (have: Permission, needed: Permission): boolean {
  return LEVEL[have] >= LEVEL[needed]
}

export interface UserRecord {
  id: number
  login: string
  type: 'User' | 'Organization'
  name: string | null
  email: string | null
  createdAt: number
}

export interface OrgRecord extends UserRecord {
  members: Set<string>
  owners: Set<string>
}

export interface LabelRecord {
  id: number
  name: string
  color: string
  description: string | null
}

export interface PullRecord {
  /** Key (`owner/name`, lower case) of the repository the head branch lives in. */
  headRepo: string
  headRef: string
  headSha: string
  baseRef: string
  baseSha: string
  draft: boolean
  maintainerCanModify: boolean
  merged: boolean
}

/** One written version of a record, kept so that lists can lag behind writes. */
export interface Version<T> {
  at: number
  value: T | null
}

export interface IssueRecord {
  id: number
  number: number
  title: string
  body: string | null
  author: string
  state: 'open' | 'closed'
  stateReason: 'completed' | 'reopened' | 'not_planned' | null
  labels: number[]
  assignees: string[]
  comments: number
  createdAt: number
  updatedAt: number
  closedAt: number | null
  closedBy: string | null
  pull: PullRecord | null
  versions: Array<Version<IssueRecord>>
}

export interface CommentRecord {
  id: number
  issueNumber: number
  body: string
  author: string
  createdAt: number
  updatedAt: number
  deleted: boolean
  versions: Array<Version<CommentRecord>>
}

export interface RepoRecord {
  id: number
  key: string
  owner: string
  name: string
  description: string | null
  defaultBranch: string
  createdAt: number
  updatedAt: number
  pushedAt: number
  permissions: Map<string, Permission>
  labels: Map<number, LabelRecord>
  issues: Map<number, IssueRecord>
  comments: Map<number, CommentRecord>
  /** Issue number -> ids of its comments (including deleted ones), in creation order. */
  commentsByIssue: Map<number, number[]>
  nextNumber: number
  /** Key of the repository this one was forked from, if any. */
  parent: string | null
  /** Key of the root of the fork network. */
  source: string
  forks: string[]
  /** Branch name -> commit sha, as the git layer last read it. */
  branches: Map<string, string>
  /** False for a fork whose git objects have not appeared yet. */
  gitReady: boolean
  sizeKb: number
  hasIssues: boolean
  /** Refuse non-fast-forward pushes (a protected branch, GitHub style) for every branch. */
  denyForcePush: boolean
}

export interface StateInit {
  now?: () => number
}

export interface IssueFilter {
  state?: 'open' | 'closed' | 'all'
  labels?: string[]
  assignee?: string
  creator?: string
  since?: number
  sort?: 'created' | 'updated' | 'comments'
  direction?: 'asc' | 'desc'
  /** Only pull requests / only plain issues. */
  kind?: 'all' | 'pull' | 'issue'
}

export interface NewIssue {
  title?: unknown
  body?: unknown
  labels?: unknown
  assignees?: unknown
  assignee?: unknown
}

export interface IssuePatch extends NewIssue {
  state?: unknown
  state_reason?: unknown
}

export interface NewPull {
  title: string
  body: string | null
  headRepo: RepoRecord
  headRef: string
  headSha: string
  baseRef: string
  baseSha: string
  draft: boolean
  maintainerCanModify: boolean
}

export const MAX_ASSIGNEES = 10
/** How long old versions are kept for lagging lists (listLagMs beyond this sees the oldest kept). */
const VERSION_RETENTION_MS = 15 * 60_000

export const repoKey = (owner: string, name: string): string => `${owner}/${name}`.toLowerCase()

export const sec = (ms: number): number => Math.floor(ms / 1000)

function snapshot<T extends { versions: unknown[] }> (record: T): T {
  return structuredClone({ ...record, versions: [] })
}

export function record<T extends { versions: Array<Version<T>> }> (rec: T, at: number, deleted = false): void {
  rec.versions.push({ at, value: deleted ? null : snapshot(rec) })
  // Drop versions superseded before the retention window (keep the one current at its start).
  let drop = 0
  while (drop + 1 < rec.versions.length && (rec.versions[drop + 1]?.at ?? Infinity) <= at - VERSION_RETENTION_MS) drop++
  if (drop > 0) rec.versions.splice(0, drop)
}

/** The version of `rec` that was current at time `at`, or null if it did not exist (or was deleted). */
export function viewAt<T extends { versions: Array<Version<T>> }> (rec: T, at: number | undefined): T | null {
  if (at == null) return rec
  for (let i = rec.versions.length - 1; i >= 0; i--) {
    const v = rec.versions[i]
    if (v != null && v.at <= at) return v.value
  }
  // Older than every kept version: the oldest one kept is the best answer (or it did not exist yet).
  return null
}

export function asString (v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

export function loginList (v: unknown, field: string): string[] {
  if (v == null) return []
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw validationFailed({ resource: 'Issue', field, code: 'invalid' })
  }
  return v as string[]
}

export function labelNames (v: unknown): string[] {
  if (v == null) return []
  if (!Array.isArray(v)) throw validationFailed({ resource: 'Label', field: 'labels', code: 'invalid' })
  return v.map((x: unknown) => {
    if (typeof x === 'string') return x
    if (x != null && typeof x === 'object' && typeof (x as { name?: unknown }).name === 'string') return (x as { name: string }).name
    throw validationFailed({ resource: 'Label', field: 'labels', code: 'invalid' })
  })
}

export const COLOR = /^[0-9a-fA-F]{6}$/
