/**
 * One result per issue, as pure logic: the markers a published result carries, and finding a
 * result some peer already published (so that a new holder adopts it instead of publishing a
 * second). No I/O here (see publish.ts).
 */
import { parseClaims, type ClaimComment } from './claim.js'

/** A result found on GitHub. */
export interface FoundResult {
  /** `pull_request`: a pull request with a `bzzz:result` marker; `failure`: a failure report; `terminal`: a `done`/`failed` claim. */
  kind: 'pull_request' | 'failure' | 'terminal'
  url: string | undefined
  state: 'done' | 'failed'
}

const RESULT_RE = /<!-- bzzz:result (\{[^\n]{1,500}?\}) -->/
const FAILURE_RE = /<!-- bzzz:failure (\{[^\n]{1,500}?\}) -->/

function taskOf (re: RegExp, body: string | null | undefined): string | undefined {
  if (typeof body !== 'string') return undefined
  const m = re.exec(body)
  if (m === null) return undefined
  try {
    const o = JSON.parse(m[1]!) as unknown
    return typeof o === 'object' && o !== null && typeof (o as { task?: unknown }).task === 'string' ? (o as { task: string }).task : undefined
  } catch {
    return undefined
  }
}

const allowOf = (trusted: readonly string[] | undefined): ((login: string | undefined) => boolean) => {
  if (trusted === undefined) return () => true
  const set = new Set(trusted.map((l) => l.toLowerCase()))
  return (login) => login !== undefined && set.has(login.toLowerCase())
}

/**
 * A result of issue `issue` among its comments: a terminal claim (other than `ownId`) or a
 * failure report, by a trusted author. A terminal claim wins over a report (it names the result).
 */
export function resultInComments (comments: readonly (ClaimComment & { html_url?: string })[], issue: number, trusted: readonly string[] | undefined, ownId?: number): FoundResult | undefined {
  const terminal = parseClaims(comments, trusted).find((c) => c.id !== ownId && c.marker.state !== 'claimed')
  if (terminal !== undefined) return { kind: 'terminal', url: terminal.marker.result_url, state: terminal.marker.state === 'done' ? 'done' : 'failed' }
  const allow = allowOf(trusted)
  const report = comments.find((c) => allow(c.user?.login) && taskOf(FAILURE_RE, c.body) === `#${issue}`)
  return report === undefined ? undefined : { kind: 'failure', url: report.html_url, state: 'failed' }
}

/** A pull request of issue `issue` (its `bzzz:result` marker), opened by a trusted author. */
export function resultInPulls (pulls: ReadonlyArray<{ body?: string | null, html_url: string, user?: { login: string } | null }>, issue: number, trusted: readonly string[] | undefined): FoundResult | undefined {
  const allow = allowOf(trusted)
  const pr = pulls.find((p) => allow(p.user?.login) && taskOf(RESULT_RE, p.body) === `#${issue}`)
  return pr === undefined ? undefined : { kind: 'pull_request', url: pr.html_url, state: 'done' }
}
