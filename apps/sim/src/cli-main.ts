#!/usr/bin/env node
// `bzzz-sim` / `pnpm sim`: see cli.ts.
import { runCli } from './cli.js'
import { daemonNodeFactory } from './daemon-node.js'
import { memoryNodeFactory } from './peer-node.js'
import { netnsTransport } from './transport-netns.js'

const controller = new AbortController()
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { controller.abort(new Error('interrupted')) })
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
  nodeFactory: (scenario) => {
    if (scenario.transport === 'memory') return memoryNodeFactory()
    if (scenario.transport === 'tcp') return daemonNodeFactory(scenario.agent)
    return netnsTransport(scenario.agent)
  }
})
process.exit(code)
