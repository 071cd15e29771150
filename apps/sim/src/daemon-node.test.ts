import { describe, expect, it } from 'vitest'
import { daemonEnv, eventOfLine } from './daemon-node.js'

describe('daemon log lines as sim events', () => {
  it('turns this daemon\'s own claims, runs and results into events; others\' are ignored', () => {
    const key = 'sim-org/tasks#4'
    expect(eventOfLine({ event: 'task:announced', key }, 'peer-1')).toEqual([{ kind: 'task_seen', task: key, peer: 'peer-1' }])
    expect(eventOfLine({ event: 'task:claimed', key, self: true, attempt: 2 }, 'peer-1')).toEqual([{ kind: 'claim_won', task: key, peer: 'peer-1', attempt: 2 }])
    expect(eventOfLine({ event: 'task:claimed', key, self: false, attempt: 1 }, 'peer-1')).toEqual([])
    expect(eventOfLine({ event: 'task:running', key, self: true }, 'peer-1')).toEqual([{ kind: 'agent_started', task: key, peer: 'peer-1' }])
    expect(eventOfLine({ event: 'task:result', key, self: true, type: 'failure', url: 'u' }, 'peer-1')).toEqual([
      { kind: 'agent_finished', task: key, peer: 'peer-1', ok: false },
      { kind: 'published', task: key, peer: 'peer-1', outcome: 'failed', url: 'u' }
    ])
    expect(eventOfLine({ event: 'task:result', key, self: true, type: 'pull_request', url: 'u' }, 'p')[1]).toMatchObject({ outcome: 'done' })
    expect(eventOfLine({ event: 'daemon:started', nodeId: 'x' }, 'p')).toEqual([])
    expect(eventOfLine({ msg: 'hello' }, 'p')).toEqual([])
  })

  it('passes timings and the lease as BZZZ_* variables, and only those given', () => {
    const env = daemonEnv({ timings: { presenceMs: 300, watchIntervalMs: 400 }, lease: { leaseMs: 15000, renewEveryMs: 3000, settleMs: 200 }, slots: 2 })
    expect(env).toMatchObject({
      BZZZ_TIMINGS__PRESENCE_MS: '300', BZZZ_WATCH__INTERVAL_MS: '400', BZZZ_TIMINGS__LEASE_MS: '15000',
      BZZZ_TIMINGS__RENEW_EVERY_MS: '3000', BZZZ_TIMINGS__SETTLE_MS: '200', BZZZ_AGENT__SLOTS: '2', BZZZ_CAPABILITIES__DETECT: 'false'
    })
    expect(env).not.toHaveProperty('BZZZ_TIMINGS__TICK_MS')
    expect(daemonEnv({ timings: {}, lease: undefined, slots: 1 })).not.toHaveProperty('BZZZ_TIMINGS__LEASE_MS')
  })
})
