import { SEED_SAMPLES, decode, type Message } from '@bzzz/protocol'
import { describe, expect, it } from 'vitest'
import { createLedger } from './ledger.js'
import { logEntryForMessage } from './log.js'
import { NotAMessageError } from './message-guard.js'

describe('the ledger and the log refuse what is not a message', () => {
  const message = decode(SEED_SAMPLES.task_broadcast)
  // What the mesh's `message` event carries: the message is one of its fields.
  const wrapper = { topic: 'task_broadcast', message, from: 'peer', propagationSource: 'peer' } as unknown as Message

  it('an event wrapper given to observe or logEntryForMessage throws, saying what to pass', () => {
    const ledger = createLedger({ selfId: 'me' })
    expect(() => ledger.observe(wrapper, 1)).toThrow(NotAMessageError)
    expect(() => logEntryForMessage(wrapper)).toThrow(/pass its `message`/)
    try { logEntryForMessage(wrapper) } catch (err) {
      expect(err).toMatchObject({ name: 'NotAMessageError', where: 'logEntryForMessage', keys: ['topic', 'message', 'from', 'propagationSource'] })
    }
    expect(ledger.tasks(2)).toEqual([])
  })

  it('the message itself is taken', () => {
    const ledger = createLedger({ selfId: 'me' })
    expect(ledger.observe(message, 1)).toBe(true)
    expect(logEntryForMessage(message)).toMatchObject({ type: 'task_announced' })
    for (const bad of [null, undefined, 42, 'task', { type: 7 }]) {
      expect(() => ledger.observe(bad as unknown as Message, 1)).toThrow(NotAMessageError)
    }
  })
})
