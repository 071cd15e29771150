/**
 * The forge's side of a run, pure: the seed (users, the organisation, the repository and its
 * labelled issues) and, at the end, what was published for each task, read from the forge's
 * records by the markers @bzzz/github writes.
 */
import type { ForgeSeed } from '@bzzz/forge'
import type { ForgeFacts } from './events.js'

export const OWNER = 'sim-org'
export const REPO_NAME = 'tasks'
export const REPO = `${OWNER}/${REPO_NAME}`
export const LABEL = 'bzzz'

export const peerName = (i: number): string => `peer-${i}`
export const peerLogin = (i: number): string => `bzzz-${peerName(i)}`
/** Tokens are random per run (the token scan looks for exactly these strings). */
export const peerToken = (i: number, salt: string): string => `ghs_sim${salt}p${i}`

export function taskKey (issue: number): string {
  return `${REPO}#${issue}`
}

/** The forge's users and repository. `labelled: false` files the task issues without the label (the runner labels them later). */
export function forgeSeed (peers: number, issues: number, salt: string, options: { labelled?: boolean } = {}): ForgeSeed {
  const labelled = options.labelled ?? true
  return {
    users: [
      { login: 'maintainer', token: `ghs_sim${salt}maint` },
      { login: 'stranger', token: `ghs_sim${salt}stranger` },
      ...Array.from({ length: peers }, (_, i) => ({ login: peerLogin(i), token: peerToken(i, salt), name: `Bzzz ${peerName(i)}`, email: `${peerName(i)}@bzzz.local` }))
    ],
    orgs: [{ login: OWNER, members: ['maintainer'] }],
    repos: [{
      owner: OWNER,
      name: REPO_NAME,
      files: { 'README.md': '# tasks\n' },
      // The maintainer triages: labels issues as work arrives (the runner does it as them).
      permissions: { maintainer: 'triage' },
      labels: [LABEL],
      issues: [
        ...Array.from({ length: issues }, (_, i) => ({
          title: `Task ${i + 1}: add sim-${i + 1}.md`,
          body: `Add a file for task ${i + 1}. [sim-task ${taskKey(i + 1)}]`,
          author: 'maintainer',
          labels: labelled ? [LABEL] : []
        })),
        // Two issues no peer may take: no label, and a label set by someone the repository does not trust.
        { title: 'Not for agents', body: `No ${LABEL} label: nobody takes this.`, author: 'maintainer' },
        { title: 'Run this script', body: 'Opened by a stranger: untrusted, ignored.', author: 'stranger', labels: [LABEL] }
      ]
    }]
  }
}

/** The minimum the facts need of the forge's records. */
export interface IssueLike { number: number, body: string | null, pull: unknown }
export interface CommentLike { issueNumber: number, body: string, deleted: boolean }

const markerTask = (text: string, kind: 'result' | 'followup' | 'failure'): number | undefined => {
  const m = new RegExp(`<!-- bzzz:${kind} (\\{.*?\\}) -->`).exec(text)
  if (m === null) return undefined
  try {
    const task = (JSON.parse(m[1]!) as { task?: unknown }).task
    return typeof task === 'string' && /^#\d+$/.test(task) ? Number(task.slice(1)) : undefined
  } catch {
    return undefined
  }
}

/** The numbers of the seeded issues no peer may take (after the `issues` tasks). */
export function ineligibleIssues (issues: number): number[] {
  return [issues + 1, issues + 2]
}

export function publications (seededIssues: number, issues: readonly IssueLike[], comments: readonly CommentLike[]): ForgeFacts['publications'] {
  const out: ForgeFacts['publications'] = {}
  for (let n = 1; n <= seededIssues; n++) out[taskKey(n)] = { pulls: 0, issues: 0, reports: 0 }
  const bump = (n: number | undefined, k: 'pulls' | 'issues' | 'reports'): void => {
    const rec = n === undefined ? undefined : out[taskKey(n)]
    if (rec !== undefined) rec[k] += 1
  }
  for (const i of issues) {
    const body = i.body ?? ''
    if (i.pull != null) bump(markerTask(body, 'result'), 'pulls')
    else bump(markerTask(body, 'followup'), 'issues')
  }
  for (const c of comments) if (!c.deleted) bump(markerTask(c.body, 'failure'), 'reports')
  return out
}

/** A comment as the forge records it, with its earlier versions. */
export interface ClaimCommentLike extends CommentLike {
  author: string
  createdAt: number
  versions?: ReadonlyArray<{ value: { body: string } | null }>
}

/**
 * Every claim comment ever posted (released and deleted ones too), as `claim_posted` events on
 * the sim's clock: the forge's record is the ground truth of when a peer posted its claim.
 */
export function claimsPosted (comments: readonly ClaimCommentLike[], epochMs: number, isClaim: (body: string) => boolean): Array<{ t: number, kind: 'claim_posted', task: string, peer: string }> {
  const out: Array<{ t: number, kind: 'claim_posted', task: string, peer: string }> = []
  for (const c of comments) {
    const bodies = [c.body, ...(c.versions ?? []).flatMap((v) => (v.value === null ? [] : [v.value.body]))]
    if (!bodies.some(isClaim)) continue
    if (!c.author.startsWith('bzzz-')) continue
    out.push({ t: c.createdAt - epochMs, kind: 'claim_posted', task: taskKey(c.issueNumber), peer: c.author.slice('bzzz-'.length) })
  }
  return out.sort((a, b) => a.t - b.t)
}

/** What touched an ineligible issue: claim comments by a peer on it, pull requests naming it as their task. */
export function ineligibleTouched (issue: number, issues: readonly IssueLike[], comments: ReadonlyArray<CommentLike & { author: string }>): number {
  const onIt = comments.filter((c) => c.issueNumber === issue && c.author.startsWith('bzzz-')).length
  const about = issues.filter((i) => i.pull != null && (i.body ?? '').includes(`"task":"#${issue}"`)).length
  return onIt + about
}
