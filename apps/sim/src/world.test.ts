import { describe, expect, it } from 'vitest'
import { claimsPosted, forgeSeed, publications, taskKey } from './world.js'

const result = (n: number): string => `Closes #${n}\n\n<!-- bzzz:result {"task":"#${n}","node":"x","claim":1,"attempt":1} -->\n`

describe('publications', () => {
  it('counts pull requests, follow-up issues and failure reports per task by their markers', () => {
    const issues = [
      { number: 1, body: 'task 1', pull: null },
      { number: 2, body: 'task 2', pull: null },
      { number: 3, body: result(1), pull: {} },
      { number: 4, body: result(1), pull: {} },
      { number: 5, body: 'x\n<!-- bzzz:followup {"task":"#2","key":"k"} -->', pull: null },
      { number: 6, body: result(2), pull: null } // a marker in a plain issue is not a pull request
    ]
    const comments = [
      { issueNumber: 2, body: '<!-- bzzz:failure {"task":"#2","node":"x","claim":1,"attempt":1} -->', deleted: false },
      { issueNumber: 2, body: '<!-- bzzz:failure {"task":"#2","node":"x","claim":2,"attempt":2} -->', deleted: true },
      { issueNumber: 1, body: '<!-- bzzz:failure {"task":"#99"} -->', deleted: false },
      { issueNumber: 1, body: '<!-- bzzz:failure not json -->', deleted: false }
    ]
    expect(publications(2, issues, comments)).toEqual({
      [taskKey(1)]: { pulls: 2, issues: 0, reports: 0 },
      [taskKey(2)]: { pulls: 0, issues: 1, reports: 1 }
    })
  })
})

describe('forgeSeed', () => {
  it('seeds one labelled issue per task, by a member, with its tag, and a token per peer', () => {
    const seed = forgeSeed(3, 4, 'abc')
    expect(seed.users!.map((u) => u.login)).toEqual(['maintainer', 'stranger', 'bzzz-peer-0', 'bzzz-peer-1', 'bzzz-peer-2'])
    expect(new Set(seed.users!.map((u) => u.token)).size).toBe(5)
    const issues = seed.repos![0]!.issues!
    expect(issues).toHaveLength(6)
    expect(issues[4]!.labels).toBeUndefined()
    expect(issues[5]).toMatchObject({ author: 'stranger', labels: ['bzzz'] })
    expect(issues[3]).toMatchObject({ author: 'maintainer', labels: ['bzzz'] })
    expect(issues[3]!.body).toContain(`[sim-task ${taskKey(4)}]`)
  })

  it('files the task issues unlabelled when work is to arrive later', () => {
    const seed = forgeSeed(1, 2, 'abc', { labelled: false })
    const issues = seed.repos![0]!.issues!
    expect(issues.slice(0, 2).map((i) => i.labels)).toEqual([[], []])
    expect(issues[3]).toMatchObject({ author: 'stranger', labels: ['bzzz'] })
    expect(seed.repos![0]!.permissions).toEqual({ maintainer: 'triage' })
  })
})

describe('claimsPosted', () => {
  it('turns every claim comment, deleted or not, into a claim_posted event on the sim clock', () => {
    const isClaim = (b: string): boolean => b.includes('bzzz:claim')
    const comments = [
      { issueNumber: 2, body: 'x <!-- bzzz:claim {} -->', deleted: false, author: 'bzzz-peer-1', createdAt: 1500 },
      { issueNumber: 1, body: '', deleted: true, author: 'bzzz-peer-0', createdAt: 1200, versions: [{ value: { body: '<!-- bzzz:claim {} -->' } }, { value: null }] },
      { issueNumber: 1, body: 'a plain comment', deleted: false, author: 'bzzz-peer-2', createdAt: 1300 },
      { issueNumber: 1, body: '<!-- bzzz:claim {} -->', deleted: false, author: 'maintainer', createdAt: 1400 }
    ]
    expect(claimsPosted(comments, 1000, isClaim)).toEqual([
      { t: 200, kind: 'claim_posted', task: taskKey(1), peer: 'peer-0' },
      { t: 500, kind: 'claim_posted', task: taskKey(2), peer: 'peer-1' }
    ])
  })
})
