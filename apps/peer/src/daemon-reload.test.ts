// One `bzzz start` daemon as a process, against the forge:
// - `bzzz capabilities` reads it (a table, and JSON with --json);
// - SIGHUP with a broken configuration: the error is logged and the old configuration kept;
// - SIGHUP with a new watched repository: its labelled issue is worked to a pull request, no restart;
// - after it stopped, `bzzz log verify` reads the data directory; a corrupted entry is named and
//   the exit is non-zero;
// - `bzzz task run <issue>`: one task on this machine alone, through the claim and the executor,
//   to a pull request.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import type { Forge } from '@bzzz/forge'
import { testForge, waitFor } from './test-utils.js'
import { api, buildCli, bzzz, cleanup, events, initDaemon, startDaemonProc, tempRoot, type DaemonProc } from './test-daemons.js'

let forge: Forge
let root: string
let d: DaemonProc
// A short lease: a young claim's fence waits out 2 × settle + min(30 s, lease / 5).
const env = { BZZZ_TIMINGS__LEASE_MS: '8000' }

type Task = { key: string, status: string }

async function pulls (repo: string): Promise<Array<{ number: number, user: { login: string } }>> {
  const res = await fetch(`${forge.url}/repos/${repo}/pulls?state=all&per_page=100`, { headers: { authorization: 'token tok-maintainer' } })
  return await res.json() as Array<{ number: number, user: { login: string } }>
}

beforeAll(async () => {
  await buildCli()
  // acme/tasks has one issue without the label (not a task for the mesh; `task run` takes it anyway).
  forge = await testForge(['alpha'], [{ title: 'Try my agent', body: 'Write a file.', author: 'maintainer' }])
  await forge.addRepo({ owner: 'acme', name: 'other', files: { 'README.md': '# other\n' }, labels: ['bzzz'], issues: [{ title: 'Later work', body: 'x', author: 'maintainer', labels: ['bzzz'] }] })
  root = await tempRoot()
  d = await initDaemon(root, 'alpha', forge, { env })
  await startDaemonProc(d)
}, 120_000)

afterAll(async () => {
  if (d !== undefined) await cleanup(root, [d])
  await forge.close()
})

describe('a daemon process: capabilities, SIGHUP reload, log verify, task run', () => {
  it('bzzz capabilities: a table, and JSON with --json', async () => {
    await waitFor('its own capabilities', async () => (await api<unknown[]>(d, '/api/capabilities')).length > 0, 30_000)
    const table = await bzzz(d, ['capabilities'])
    expect(table.code).toBe(0)
    const [head, ...rows] = table.stdout.trim().split('\n')
    expect(head!.split(/\s+/)).toEqual(['peer', 'liveness', 'agents', 'models', 'gpus', 'cpu', 'mem'])
    expect(rows.some((r) => r.includes('claude'))).toBe(true)
    const json = await bzzz(d, ['capabilities', '--json'])
    expect(json.code).toBe(0)
    const caps = JSON.parse(json.stdout) as Array<{ nodeId: string, capabilities: { installed: string[] } | null }>
    expect(caps.find((c) => c.nodeId === d.nodeId)?.capabilities?.installed).toEqual(['claude'])
  }, 60_000)

  it('SIGHUP: a broken configuration is logged and the old one kept; a new repository is watched without a restart', async () => {
    const good = await readFile(d.configPath, 'utf8')
    const config = parse(good) as { repos: string[] }
    await writeFile(d.configPath, stringify({ ...config, repos: ['acme/tasks', 'not a repo'] }))
    d.proc!.kill('SIGHUP')
    const failed = await waitFor('the failed reload', () => events(d, 'daemon:reload-failed')[0], 30_000)
    expect(String(failed.err)).toMatch(/repos/)
    expect((await api<{ repos: string[] }>(d, '/api/status')).repos).toEqual(['acme/tasks'])

    // A new repository applies at once; a changed agent setting needs a restart, and the log line says so.
    await writeFile(d.configPath, stringify({ ...config, repos: ['acme/tasks', 'acme/other'], agent: { ...(config as { agent?: object }).agent, slots: 2 } }))
    d.proc!.kill('SIGHUP')
    const reloaded = await waitFor('the reload', () => events(d, 'daemon:reloaded')[0], 30_000)
    expect(reloaded.repos).toEqual(['acme/other', 'acme/tasks'])
    expect(reloaded.needsRestart).toEqual(['agent'])
    await waitFor('acme/other#1 done', async () => (await api<Task[]>(d, '/api/tasks')).find((t) => t.key === 'acme/other#1')?.status === 'done', 90_000)
    expect(await pulls('acme/other')).toHaveLength(1)
    // The same process all along, and the unlabelled issue of acme/tasks was no task.
    expect(d.proc!.exitCode).toBe(null)
    expect(events(d, 'daemon:started')).toHaveLength(1)
    expect((await api<Task[]>(d, '/api/tasks')).map((t) => t.key)).toEqual(['acme/other#1'])
  }, 150_000)

  it('bzzz log verify without a daemon: reads the data directory; a corrupted entry is named, exit 1', async () => {
    d.proc!.kill('SIGTERM')
    expect(await d.exited).toBe(0)
    // A command that needs the daemon says so in one line, exit 1.
    const caps = await bzzz(d, ['capabilities'])
    expect(caps.code).toBe(1)
    expect(caps.stderr.trim().split('\n')).toHaveLength(1)
    expect(caps.stderr).toMatch(/daemon/)
    const ok = await bzzz(d, ['log', 'verify', '--json'])
    expect(ok.code, ok.stderr).toBe(0)
    const checks = JSON.parse(ok.stdout) as Array<{ author: string, length: number, ok: boolean, error?: { seq: number, code: string } }>
    const own = checks.find((c) => c.author === d.nodeId)!
    expect(own.ok).toBe(true)
    expect(own.length).toBeGreaterThan(3)
    // Change one entry's payload behind the signature's back.
    const author = d.nodeId!
    const db = new DatabaseSync(join(d.dataDir, 'state.db'))
    const row = db.prepare('SELECT body FROM log_entries WHERE author = ? AND seq = 2').get(author) as { body: string }
    const entry = JSON.parse(row.body) as { payload: unknown }
    entry.payload = { forged: true }
    db.prepare('UPDATE log_entries SET body = ? WHERE author = ? AND seq = 2').run(JSON.stringify(entry), author)
    db.close()
    const bad = await bzzz(d, ['log', 'verify'])
    expect(bad.code).toBe(1)
    const line = bad.stdout.split('\n').find((l) => l.startsWith(d.nodeId!))
    expect(line).toMatch(/FAILS at entry 2: /)
    const badJson = JSON.parse((await bzzz(d, ['log', 'verify', '--json'])).stdout) as typeof checks
    expect(badJson.find((c) => c.author === d.nodeId)).toMatchObject({ ok: false, error: { seq: 2 } })
  }, 60_000)

  it('bzzz task run: one issue on this machine alone, through the claim and the executor, to a pull request', async () => {
    // Two repositories are watched now: which one must be said, in one line.
    const which = await bzzz(d, ['task', 'run', '1'])
    expect(which.code).toBe(1)
    expect(which.stderr).toMatch(/^bzzz: repository: say which: --repo owner\/name/)
    expect(which.stderr.trim().split('\n')).toHaveLength(1)
    const t0 = Date.now()
    const run = await bzzz(d, ['task', 'run', 'acme/tasks#1'])
    console.log(JSON.stringify({ metric: 'task_run_s', seconds: Number(((Date.now() - t0) / 1000).toFixed(1)) }))
    expect(run.code, run.stderr).toBe(0)
    const prs = await pulls('acme/tasks')
    expect(prs).toHaveLength(1)
    expect(prs[0]!.user.login).toBe('bzzz-alpha')
    expect(run.stdout.trim()).toBe(`pull_request ${forge.url}/acme/tasks/pull/${prs[0]!.number}`)
    // The claim went through GitHub as the daemon's would: a claim comment marked done.
    const comments = await (await fetch(`${forge.url}/repos/acme/tasks/issues/1/comments`, { headers: { authorization: 'token tok-maintainer' } })).json() as Array<{ body: string }>
    expect(comments.some((c) => c.body.includes('<!-- bzzz:claim') && c.body.includes('"state":"done"'))).toBe(true)
  }, 90_000)
})
