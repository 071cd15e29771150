// A node whose start fails rejects with the failure itself, stops what had started and ends
// `stopped` (the error was once masked by a lifecycle error).
import { describe, expect, it } from 'vitest'
import { testMesh, testNode } from './test-utils.js'

const mesh = testMesh()

describe('a failed start', () => {
  it('rejects with its own error; the node goes starting → stopping → stopped', async () => {
    const forge = await mesh.forge(['alpha'], [])
    // A memory mesh cannot listen on TCP.
    const node = await testNode({ name: 'alpha', forge, extra: { mesh: { transport: 'memory', listen: ['/ip4/127.0.0.1/tcp/0'] } } })
    const phases: string[] = []
    node.on('state', ({ phase }) => { phases.push(phase) })
    const err = await node.start().then(() => undefined, (e: unknown) => e as Error)
    expect(err?.name).not.toBe('LifecycleTransitionError')
    expect(err?.message).toMatch(/listen/i)
    expect(node.phase).toBe('stopped')
    expect(phases).toEqual(['starting', 'stopping', 'stopped'])
  }, 30_000)
})
