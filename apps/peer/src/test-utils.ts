// Shared by the tests: a forge with a task repository and one account per node, and nodes on it.
import { pino } from 'pino'
import { afterEach } from 'vitest'
import { createForge, type Forge, type SeedIssue } from '@bzzz/forge'
import { staticCapabilities, type StaticCapabilitiesInit } from './capabilities.js'
import { createNode, type BzzzNode, type NodeInit, type NodeTimings } from './node.js'
import { createScriptedExecutor, type ScriptedExecutorInit } from './scripted-executor.js'

export const REPO = 'acme/tasks'

export async function testForge (names: readonly string[], issues: SeedIssue[], options: { nodesAreMembers?: boolean } = {}): Promise<Forge> {
  return await createForge({
    port: 0,
    forkDelayMs: 50,
    seed: {
      users: [
        { login: 'maintainer', token: 'tok-maintainer' },
        ...names.map((n) => ({ login: `bzzz-${n}`, token: `tok-${n}`, name: `Bzzz ${n}`, email: `${n}@bzzz.local` }))
      ],
      orgs: [{ login: 'acme', members: ['maintainer', ...(options.nodesAreMembers === true ? names.map((n) => `bzzz-${n}`) : [])] }],
      repos: [{
        owner: 'acme',
        name: 'tasks',
        files: { 'README.md': '# tasks\n' },
        labels: ['bzzz'],
        issues,
        // Members may label what they open (`bzzz task submit`), as a triage role allows.
        ...(options.nodesAreMembers === true ? { permissions: Object.fromEntries(names.map((n) => [`bzzz-${n}`, 'triage' as const])) } : {})
      }]
    }
  })
}

/** Short timings for in-process tests on a loaded machine. */
export const FAST_TIMINGS: Partial<NodeTimings> = {
  presenceMs: 300,
  warmUpMs: 800,
  tickMs: 100,
  watchIntervalMs: 400,
  leaseMs: 8000,
  renewEveryMs: 2000,
  settleMs: 200,
  forkPollMs: 50,
  standbyStepMs: 800,
  helpCollectMs: 300,
  helpTimeoutMs: 5000,
  liveness: { suspectAfterMs: 1500, deadAfterMs: 3000 }
}

export interface TestNodeInit {
  name: string
  forge: Forge
  executor?: Partial<ScriptedExecutorInit> | false
  capabilities?: StaticCapabilitiesInit
  extra?: Partial<NodeInit>
}

export async function testNode (init: TestNodeInit): Promise<BzzzNode> {
  return await createNode({
    name: init.name,
    mesh: { transport: 'memory', meshName: 'test' },
    github: {
      token: `tok-${init.name}`,
      baseUrl: init.forge.url,
      gitBaseUrl: init.forge.url,
      throttle: { writeMinTimeMs: 0, notificationMinTimeMs: 0 }
    },
    repos: [REPO],
    capabilities: staticCapabilities(init.capabilities ?? { installed: ['claude'] }),
    ...(init.executor === false
      ? {}
      : { executor: createScriptedExecutor({ identity: { name: `bzzz-${init.name}`, email: `${init.name}@bzzz.local` }, ...init.executor }) }),
    timings: FAST_TIMINGS,
    ...(process.env.BZZZ_TEST_LOG !== undefined ? { logger: pino({ level: process.env.BZZZ_TEST_LOG, base: { node: init.name } }, pino.destination(2)) } : {}),
    ...init.extra
  })
}

export interface TestMesh {
  /** A forge for this test (`testForge`), closed after it. */
  forge: typeof testForge
  /** A node for this test (`testNode`), killed after it (before the forge closes). */
  node: typeof testNode
}

/** The forge and nodes of each test in the file that calls it at its top, torn down after each test. */
export function testMesh (): TestMesh {
  let forge: Forge | undefined
  let nodes: BzzzNode[] = []
  afterEach(async () => {
    const dying = nodes
    nodes = []
    await Promise.all(dying.map(async (n) => { await n.kill() }))
    await forge?.close()
    forge = undefined
  })
  return {
    forge: async (...args) => { forge = await testForge(...args); return forge },
    node: async (init) => {
      const node = await testNode(init)
      nodes.push(node)
      return node
    }
  }
}

export async function connectAll (nodes: readonly BzzzNode[]): Promise<void> {
  for (let i = 1; i < nodes.length; i++) {
    for (let j = 0; j < i; j++) await nodes[i]!.mesh.dial(nodes[j]!.mesh.getMultiaddrs()[0]!)
  }
}

export async function waitFor<T> (what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The forge's pull requests on the task repository. */
export async function pullRequests (forge: Forge): Promise<Array<{ number: number, title: string, body: string, head: string, user: string }>> {
  const res = await fetch(`${forge.url}/repos/${REPO}/pulls?state=all&per_page=100`, { headers: { authorization: 'token tok-maintainer' } })
  const data = await res.json() as Array<{ number: number, title: string, body: string, head: { label: string }, user: { login: string } }>
  return data.map((p) => ({ number: p.number, title: p.title, body: p.body, head: p.head.label, user: p.user.login }))
}
