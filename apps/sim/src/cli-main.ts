#!/usr/bin/env node
// `bzzz-sim` / `pnpm sim`: see cli.ts.
import { runCli } from './cli.js'
import { NodeError } from './errors.js'
import { daemonNodeFactory } from './daemon-node.js'
import { memoryNodeFactory } from './peer-node.js'

const controller = new AbortController()
process.once('SIGINT', () => { controller.abort(new Error('interrupted')) })
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
  nodeFactory: (scenario) => {
    if (scenario.transport === 'memory') return memoryNodeFactory()
    if (scenario.transport === 'tcp') return daemonNodeFactory(scenario.agent)
    return async (spec) => { throw new NodeError(spec.name, `transport ${scenario.transport} is not built yet (use memory or tcp)`) }
  }
})
process.exit(code)
