// `bzzz log verify` without a running daemon, on a data directory that holds a replicated log:
// it verifies the node's own log and every peer's copy, and names the entry of whose log fails.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Forge } from '@bzzz/forge'
import { REPO, connectAll, testForge, testNode, waitFor } from './test-utils.js'
import { CLI, buildCli, freePort } from './test-daemons.js'

const exec = promisify(execFile)
let forge: Forge
let dir: string

async function verify (configPath: string, json: boolean): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, '--config', configPath, 'log', 'verify', ...(json ? ['--json'] : [])], { env: { PATH: process.env.PATH ?? '' } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

beforeAll(async () => {
  await buildCli()
  dir = await mkdtemp(join(tmpdir(), 'bzzz-log-verify-'))
  forge = await testForge(['alpha', 'bravo'], [{ title: 'Something to log', body: 'x', author: 'maintainer', labels: ['bzzz'] }])
}, 120_000)

afterAll(async () => {
  await forge.close()
  await rm(dir, { recursive: true, force: true })
})

describe('bzzz log verify without a daemon', () => {
  it('names the failing entry of a replicated log, exit 1; all ok, exit 0', async () => {
    const f = forge
    const [alpha, bravo] = await Promise.all(['alpha', 'bravo'].map(async (name) => await testNode({ name, forge: f, extra: { dataDir: join(dir, name) } })))
    await alpha!.start()
    await bravo!.start()
    await connectAll([alpha!, bravo!])
    await waitFor('done', () => [alpha!, bravo!].every((n) => n.tasks().find((t) => t.key === `${REPO}#1`)?.status === 'done'), 60_000)
    await waitFor('bravo\'s log replicated to alpha', async () => {
      await alpha!.replicate()
      const copy = alpha!.store.logHead(bravo!.nodeId).length
      return copy > 0 && copy === bravo!.log.head().length
    }, 30_000)
    const bravoId = bravo!.nodeId
    const alphaId = alpha!.nodeId
    await alpha!.stop()
    await bravo!.stop()

    // alpha's configuration; no daemon answers on its HTTP port.
    const configPath = join(dir, 'alpha.yaml')
    await writeFile(configPath, `dataDir: ${join(dir, 'alpha')}\nhttp: { port: ${await freePort()} }\n`)
    const ok = await verify(configPath, true)
    expect(ok.code, ok.stderr).toBe(0)
    const checks = JSON.parse(ok.stdout) as Array<{ author: string, length: number, ok: boolean, error?: { seq: number } }>
    expect(checks.map((c) => c.author).sort()).toEqual([alphaId, bravoId].sort())
    expect(checks.every((c) => c.ok && c.length > 0)).toBe(true)

    // Change bravo's last entry in alpha's copy, behind the signature's back.
    const db = new DatabaseSync(join(dir, 'alpha', 'state.db'))
    const seq = (db.prepare('SELECT max(seq) AS seq FROM log_entries WHERE author = ?').get(bravoId) as { seq: number }).seq
    const row = db.prepare('SELECT body FROM log_entries WHERE author = ? AND seq = ?').get(bravoId, seq) as { body: string }
    db.prepare('UPDATE log_entries SET body = ? WHERE author = ? AND seq = ?').run(JSON.stringify({ ...JSON.parse(row.body) as object, payload: { forged: true } }), bravoId, seq)
    db.close()
    const bad = await verify(configPath, false)
    expect(bad.code).toBe(1)
    const lines = bad.stdout.split('\n')
    expect(lines.find((l) => l.startsWith(bravoId))).toMatch(new RegExp(`FAILS at entry ${seq}: `))
    expect(lines.find((l) => l.startsWith(alphaId))).toMatch(/\bok$/)
  }, 120_000)
})
