import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCli, runCli } from './cli-main.js'

describe('bzzz-forge command line', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'forge-cli-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('starts a forge from a seed file and serves it', async () => {
    const seed = join(dir, 'seed.json')
    await writeFile(seed, JSON.stringify({ users: [{ login: 'a', token: 't' }], repos: [{ owner: 'a', name: 'r', issues: [{ title: 'x', author: 'a' }] }] }))
    const faults = join(dir, 'faults.json')
    await writeFile(faults, JSON.stringify({ listLagMs: 0 }))
    const lines: string[] = []
    const forge = await runCli(['--port', '0', '--seed', seed, '--random-seed', '4', '--faults', faults], (l) => lines.push(l))
    try {
      expect(forge).toBeDefined()
      expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ url: forge?.url })
      const res = await fetch(`${forge?.url}/repos/a/r/issues`, { headers: { authorization: 'token t' } })
      expect(((await res.json()) as Array<{ title: string }>)[0]?.title).toBe('x')
    } finally {
      await forge?.close()
    }
  })

  it('parses every option and refuses bad ones', async () => {
    const limits = join(dir, 'limits.json')
    await writeFile(limits, JSON.stringify({ primaryLimit: 10 }))
    expect(await parseCli(['--port', '0', '--host', '::1', '--data-dir', dir, '--fork-delay-ms', '250', '--rate-limit', limits]))
      .toEqual({ port: 0, host: '::1', dataDir: dir, forkDelayMs: 250, rateLimit: { primaryLimit: 10 } })
    expect(await parseCli(['--help'])).toBe('help')
    await expect(parseCli(['--port', 'x'])).rejects.toThrow(/--port must be a number/)
    await expect(parseCli(['--nope'])).rejects.toThrow()
  })
})
