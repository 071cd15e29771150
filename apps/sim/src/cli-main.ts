#!/usr/bin/env node
// `bzzz-sim` / `pnpm sim`: see cli.ts.
import { runCli } from './cli.js'
import { NodeError } from './errors.js'
import { memoryNodeFactory } from './peer-node.js'

const controller = new AbortController()
process.once('SIGINT', () => { controller.abort(new Error('interrupted')) })
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
  nodeFactory: (transport) => {
    if (transport === 'memory') return memoryNodeFactory()
    return async (spec) => { throw new NodeError(spec.name, `transport ${transport} is not built yet (use memory)`) }
  }
})
process.exit(code)
