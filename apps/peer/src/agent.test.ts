// The node with a real @bzzz/executor run: a `command` agent (a shell script) writes the file
// the issue asks for; the executor commits, pushes and opens the pull request; the node completes
// the claim and announces the result.
import { createCommandAdapter } from '@bzzz/executor'
import { describe, expect, it } from 'vitest'
import { connectAll, pullRequests, testMesh, waitFor, REPO } from './test-utils.js'

const mesh = testMesh()

describe('node with @bzzz/executor', () => {
  it('runs the agent through the executor to exactly one pull request', async () => {
    const f = await mesh.forge(['alpha', 'bravo'], [{ title: 'Write a greeting', body: 'Add greeting.md', author: 'maintainer', labels: ['bzzz'] }])
    const nodes = await Promise.all(['alpha', 'bravo'].map(async (name) => await mesh.node({
      name,
      forge: f,
      executor: false,
      extra: {
        agent: createCommandAdapter({ command: ['sh', '-c', 'printf "hello, mesh\\n" > greeting.md'], format: 'text' }),
        agentOptions: { identity: { name: `bzzz-${name}`, email: `${name}@bzzz.local` }, isolation: 'process-group', limits: { wallClockMs: 60_000 } }
      }
    })))
    const progress: string[] = []
    // Once the executor publishes, the agent has ended: the task holds no slot (it waits for the fence).
    const publishing: Array<{ publishing: string[], free: number }> = []
    for (const n of nodes) {
      n.on('task:progress', ({ event }) => {
        progress.push(`${event.kind}:${event.text}`)
        if (event.text === 'phase publishing') publishing.push({ publishing: n.status().publishing, free: n.status().slots.free })
      })
    }
    for (const n of nodes) await n.start()
    await connectAll(nodes)
    await waitFor('done', () => nodes.every((n) => n.tasks().find((t) => t.key === `${REPO}#1`)?.status === 'done'), 60_000)
    const prs = await pullRequests(f)
    expect(prs).toHaveLength(1)
    expect(nodes[0]!.tasks()[0]!.result?.result_url).toBe(`${f.url}/acme/tasks/pull/${prs[0]!.number}`)
    expect(progress.some((p) => p.startsWith('message:phase running'))).toBe(true)
    expect(publishing).toEqual([{ publishing: [`${REPO}#1`], free: 1 }])
  }, 90_000)
})
