import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkEligible, eligibility, issueRevision, observeIssue, type IssueLike, type KnownIssue } from './eligibility.js'

const assocs = ['OWNER', 'MEMBER', 'COLLABORATOR', 'CONTRIBUTOR', 'NONE', 'FIRST_TIME_CONTRIBUTOR']

const issueArb = (n: number): fc.Arbitrary<IssueLike> => fc.record({
  number: fc.constant(n),
  title: fc.constantFrom('a', 'b'),
  body: fc.constantFrom('x', 'y', null),
  state: fc.constantFrom('open', 'closed'),
  labels: fc.subarray(['bzzz', 'bug', 'bzzz:done', 'BZZZ']).map((ls) => ls.map((name) => ({ name }))),
  pull_request: fc.constantFrom(undefined, { url: 'u' }),
  author_association: fc.constantFrom(...assocs),
  user: fc.constant({ login: 'alice' }),
  html_url: fc.constant(`https://example.test/o/r/issues/${n}`),
  updated_at: fc.integer({ min: 0, max: 100 }).map((s) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString())
})

describe('eligibility', () => {
  const rules = eligibility()

  it('eligible ⇔ open, not a PR, labelled, not excluded, trusted author', () => {
    fc.assert(fc.property(issueArb(1), (issue) => {
      const names = issue.labels.map((l) => (typeof l === 'string' ? l : l.name ?? '').toLowerCase())
      const expected = issue.state === 'open' && issue.pull_request === undefined && names.includes('bzzz') &&
        !names.includes('bzzz:done') && ['OWNER', 'MEMBER', 'COLLABORATOR'].includes(issue.author_association!)
      expect(checkEligible(issue, rules).eligible).toBe(expected)
    }))
  })

  it('trusted authors by login override the association', () => {
    const issue: IssueLike = { number: 1, title: 't', state: 'open', labels: ['bzzz'], author_association: 'NONE', user: { login: 'Bot' }, html_url: 'u', updated_at: '2025-01-01T00:00:00Z' }
    expect(checkEligible(issue, rules)).toEqual({ eligible: false, reason: 'untrusted_author' })
    expect(checkEligible(issue, eligibility({ trustedAuthors: ['bot'] })).eligible).toBe(true)
  })

  it('the announced set always equals the eligible set of the newest observations, whatever the order and repetition', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 4 }).chain((n) => issueArb(n)), { maxLength: 60 }), (observations) => {
      const known = new Map<number, KnownIssue>()
      const announced = new Map<number, string>()
      const newest = new Map<number, IssueLike>()
      for (const issue of observations) {
        const prev = newest.get(issue.number)
        if (prev === undefined || Date.parse(issue.updated_at) >= Date.parse(prev.updated_at)) newest.set(issue.number, issue)
        const change = observeIssue(known, issue, rules)
        if (change === undefined) continue
        if (change.action === 'withdraw') {
          expect(announced.has(issue.number)).toBe(true)
          announced.delete(issue.number)
        } else if (change.action === 'open') {
          expect(announced.has(issue.number)).toBe(false)
          announced.set(issue.number, change.revision)
        } else {
          expect(announced.get(issue.number)).not.toBe(change.revision)
          announced.set(issue.number, change.revision)
        }
      }
      for (const [n, issue] of newest) {
        expect(announced.has(n)).toBe(checkEligible(issue, rules).eligible)
        if (announced.has(n)) expect(announced.get(n)).toBe(issueRevision(issue))
      }
      // Observing the newest state again changes nothing.
      for (const issue of newest.values()) expect(observeIssue(known, issue, rules)).toBeUndefined()
    }), { numRuns: 500 })
  })
})
