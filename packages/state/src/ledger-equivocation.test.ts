import { describe, expect, it } from 'vitest'
import { announce, claim, T0 } from './builders.test.util.js'
import { createLedger } from './ledger.js'

describe('ledger: equivocating authors', () => {
  it('discounts the messages of a node marked equivocating, and only its', () => {
    const ledger = createLedger()
    expect(ledger.observe(announce('#1', T0, { node_id: 'watcher' }), T0)).toBe(true)
    ledger.markEquivocating('liar')
    expect(ledger.equivocating()).toEqual(['liar'])
    expect(ledger.observe(claim('#1', 'liar', T0 + 10), T0 + 10)).toBe(false)
    expect(ledger.peer('liar', T0 + 10)).toBeUndefined()
    expect(ledger.task('example-org/task-repo#1', T0 + 10)?.holder).toBeUndefined()
    expect(ledger.observe(claim('#1', 'honest', T0 + 20), T0 + 20)).toBe(true)
    expect(ledger.task('example-org/task-repo#1', T0 + 20)?.holder?.node).toBe('honest')
  })
})
