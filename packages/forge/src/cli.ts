#!/usr/bin/env node
/**
 * bzzz-forge: run the forge from the command line.
 *   bzzz-forge --port 3000 --seed seed.json [--host 127.0.0.1] [--data-dir DIR]
 *              [--fork-delay-ms 0] [--random-seed 42] [--faults faults.json] [--rate-limit limits.json]
 * The seed file is a `ForgeSeed` (users, orgs, repos); --faults and --rate-limit take JSON
 * files holding a `FaultConfig` and a partial `RateLimitConfig`.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { createForge } from './forge.js'
import type { ForgeInit, ForgeSeed } from './forge.js'

const HELP = `usage: bzzz-forge [--port N] [--host H] [--seed seed.json] [--data-dir DIR]
                  [--fork-delay-ms MS] [--random-seed N] [--faults faults.json] [--rate-limit limits.json]`

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '3000' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string' },
      'data-dir': { type: 'string' },
      'fork-delay-ms': { type: 'string' },
      'random-seed': { type: 'string' },
      faults: { type: 'string' },
      'rate-limit': { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    },
    strict: true
  })
  if (values.help === true) {
    console.log(HELP)
    return
  }
  const json = async <T>(file: string | undefined): Promise<T | undefined> =>
    file == null ? undefined : JSON.parse(await readFile(file, 'utf8')) as T
  const init: ForgeInit = { port: Number(values.port), host: values.host }
  const seed = await json<ForgeSeed>(values.seed)
  if (seed != null) init.seed = seed
  if (values['data-dir'] != null) init.dataDir = values['data-dir']
  if (values['fork-delay-ms'] != null) init.forkDelayMs = Number(values['fork-delay-ms'])
  if (values['random-seed'] != null) init.random = { seed: Number(values['random-seed']) }
  const faults = await json<ForgeInit['faults']>(values.faults)
  if (faults != null) init.faults = faults
  const rateLimit = await json<ForgeInit['rateLimit']>(values['rate-limit'])
  if (rateLimit != null) init.rateLimit = rateLimit
  const forge = await createForge(init)
  console.log(JSON.stringify({ url: forge.url, dataDir: forge.dataDir }))
  const stop = (): void => { void forge.close().then(() => process.exit(0)) }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(1)
})
