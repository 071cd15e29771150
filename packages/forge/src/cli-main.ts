/** The command line of `bzzz-forge`, as a function (cli.ts is the executable wrapper). */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { createForge } from './forge.js'
import type { Forge, ForgeInit, ForgeSeed } from './forge.js'

export const USAGE = `usage: bzzz-forge [--port N] [--host H] [--seed seed.json] [--data-dir DIR]
                  [--fork-delay-ms MS] [--random-seed N] [--faults faults.json] [--rate-limit limits.json]`

/** Parse `argv` (without node and the script) into `createForge` options, reading the JSON files it names. */
export async function parseCli (argv: string[]): Promise<ForgeInit | 'help'> {
  const { values } = parseArgs({
    args: argv,
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
    strict: true,
    allowPositionals: false
  })
  if (values.help === true) return 'help'
  const json = async <T>(file: string | undefined): Promise<T | undefined> =>
    file == null ? undefined : JSON.parse(await readFile(file, 'utf8')) as T
  const number = (name: string, v: string): number => {
    const n = Number(v)
    if (!Number.isFinite(n)) throw new TypeError(`--${name} must be a number, got ${v}`)
    return n
  }
  const init: ForgeInit = { port: number('port', values.port), host: values.host }
  const seed = await json<ForgeSeed>(values.seed)
  if (seed != null) init.seed = seed
  if (values['data-dir'] != null) init.dataDir = values['data-dir']
  if (values['fork-delay-ms'] != null) init.forkDelayMs = number('fork-delay-ms', values['fork-delay-ms'])
  if (values['random-seed'] != null) init.random = { seed: number('random-seed', values['random-seed']) }
  const faults = await json<ForgeInit['faults']>(values.faults)
  if (faults != null) init.faults = faults
  const rateLimit = await json<ForgeInit['rateLimit']>(values['rate-limit'])
  if (rateLimit != null) init.rateLimit = rateLimit
  return init
}

/** Start a forge from a command line; undefined after printing the usage for --help. */
export async function runCli (argv: string[], log: (line: string) => void = console.log): Promise<Forge | undefined> {
  const init = await parseCli(argv)
  if (init === 'help') {
    log(USAGE)
    return undefined
  }
  const forge = await createForge(init)
  log(JSON.stringify({ url: forge.url, dataDir: forge.dataDir }))
  return forge
}
