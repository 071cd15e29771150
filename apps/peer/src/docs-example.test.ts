// Runs the example of docs/embedding.md (another service joining a mesh and following its
// tasks) as it is written, with Node, against the built packages.
import { execFile } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { APP_DIR, buildCli } from './test-daemons.js'

const exec = promisify(execFile)

beforeAll(async () => { await buildCli() }, 120_000)

describe('docs/embedding.md', () => {
  it('runs: the service sees the task announced, claimed and done', async () => {
    const md = await readFile(join(APP_DIR, '..', '..', 'docs', 'embedding.md'), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(md)![1]!
    // Inside apps/peer so that the @bzzz/* packages resolve as a dependent's would.
    const file = join(APP_DIR, `.docs-example-${process.pid}.mts`)
    await writeFile(file, code)
    try {
      const { stdout } = await exec(process.execPath, ['--experimental-strip-types', '--no-warnings', file], { cwd: APP_DIR, timeout: 90_000 })
      const lines = stdout.trim().split('\n')
      expect(lines[0]).toBe('acme/tasks#1 announced')
      expect(lines.at(-1)).toMatch(/^acme\/tasks#1 done http:\/\/127\.0\.0\.1:\d+\/acme\/tasks\/pull\/\d+$/)
    } finally {
      await rm(file, { force: true })
    }
  }, 120_000)
})
