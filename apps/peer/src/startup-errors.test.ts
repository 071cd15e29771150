// `bzzz start` refuses to run with a clear one-line error and a non-zero exit, never a stack trace.
import { execFile } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Forge } from '@bzzz/forge'
import { CLI, buildCli, freePort } from './test-daemons.js'
import { testForge } from './test-utils.js'

const exec = promisify(execFile)
let forge: Forge
let root: string

beforeAll(async () => {
  await buildCli()
  forge = await testForge(['alpha'], [])
  root = await mkdtemp(join(tmpdir(), 'bzzz-errors-'))
}, 120_000)

afterAll(async () => {
  await forge.close()
  await rm(root, { recursive: true, force: true })
})

async function start (name: string, config: string, env: Record<string, string> = {}, setup?: (dir: string) => Promise<void>): Promise<{ code: number, stderr: string, stdout: string }> {
  const dir = join(root, name)
  await exec('mkdir', ['-p', '-m', '700', dir])
  await setup?.(dir)
  await writeFile(join(dir, 'config.yaml'), config.replaceAll('$DIR', dir))
  try {
    const r = await exec(process.execPath, [CLI, '--config', join(dir, 'config.yaml'), 'start'], {
      env: { PATH: process.env.PATH, HOME: dir, BZZZ_CAPABILITIES__DETECT: 'false', ...env }, timeout: 30_000
    })
    return { code: 0, ...r }
  } catch (err) {
    const e = err as { code: number, stderr: string, stdout: string }
    return { code: e.code, stderr: e.stderr, stdout: e.stdout }
  }
}

function oneLine (r: { code: number, stderr: string }): string {
  expect(r.code).not.toBe(0)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(r.stderr).not.toMatch(/\n\s+at /)
  return lines[0]!
}

async function withToken (dir: string): Promise<void> {
  await writeFile(join(dir, 'token'), 'tok-alpha\n', { mode: 0o600 })
}

const base = (extra = ''): string => `dataDir: $DIR\ngithub:\n  apiUrl: ${forge.url}\n  gitUrl: ${forge.url}\n  tokenFile: $DIR/token\nmesh:\n  listen: [/ip4/127.0.0.1/tcp/0]\n${extra}`

describe('bzzz start errors', () => {
  it('a bad setting names the field and what it expects', async () => {
    const line = oneLine(await start('bad', base('http:\n  port: lots\n'), {}, withToken))
    expect(line).toMatch(/^bzzz: .*config\.yaml: http\.port: must be integer, got "lots"$/)
  })

  it('a missing token', async () => {
    const line = oneLine(await start('notoken', `dataDir: $DIR\ngithub:\n  apiUrl: ${forge.url}\n`))
    expect(line).toBe('bzzz: no GitHub token: set github.tokenFile in the configuration, or the GITHUB_TOKEN environment variable')
  })

  it('an unreachable forge', async () => {
    const port = await freePort()
    const line = oneLine(await start('noforge', base().replaceAll(forge.url, `http://127.0.0.1:${port}`), {}, withToken))
    expect(line).toMatch(new RegExp(`^bzzz: cannot reach GitHub at http://127.0.0.1:${port}: `))
  })

  it('a key file readable by others', async () => {
    const line = oneLine(await start('openkey', base(), {}, async (dir) => {
      await withToken(dir)
      await writeFile(join(dir, 'identity.key'), 'x')
      await chmod(join(dir, 'identity.key'), 0o644)
    }))
    expect(line).toContain('identity.key is readable by others (mode 644)')
    expect(line).toContain('chmod 600')
  })

  it('a token file readable by others', async () => {
    const line = oneLine(await start('opentoken', base(), {}, async (dir) => {
      await writeFile(join(dir, 'token'), 'tok-alpha\n', { mode: 0o644 })
      await chmod(join(dir, 'token'), 0o644)
    }))
    expect(line).toMatch(/token is readable by others \(mode 644\): run chmod 600/)
  })

  it('a port in use', async () => {
    const port = await freePort()
    const blocker: Server = createServer()
    await new Promise<void>((resolve) => { blocker.listen(port, '127.0.0.1', () => { resolve() }) })
    try {
      const line = oneLine(await start('port', base(`http:\n  port: ${port}\n`), {}, withToken))
      expect(line).toBe(`bzzz: http 127.0.0.1:${port} is already in use (another bzzz running?): pick another port in the configuration`)
    } finally {
      blocker.close()
    }
  })
})
