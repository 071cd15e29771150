import { afterEach, describe, expect, it } from 'vitest'
import { ForgeProcessError } from './errors.js'
import { startForgeProcess, type SimForge } from './forge-process.js'
import { forgeSeed, peerLogin, peerToken, REPO } from './world.js'

const SALT = 'fp1'
const started: SimForge[] = []
afterEach(async () => { await Promise.all(started.splice(0).map(async (f) => { await f.close() })) })

const start = async (issues: number, labelled = false): Promise<SimForge> => {
  const forge = await startForgeProcess({ seed: forgeSeed(1, issues, SALT, { labelled }), randomSeed: 7 })
  started.push(forge)
  return forge
}

const api = async (forge: SimForge, path: string, init: { method?: string, body?: unknown, token?: string } = {}): Promise<{ status: number, body: unknown }> => {
  const res = await fetch(`${forge.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `token ${init.token ?? peerToken(0, SALT)}`, accept: 'application/vnd.github+json', 'content-type': 'application/json' },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {})
  })
  return { status: res.status, body: await res.json().catch(() => null) }
}

describe('the forge in its own process', () => {
  it('serves the seeded repository over HTTP and answers the runner\'s calls from its state', async () => {
    const forge = await start(3)
    // Filed unlabelled: the label comes from the runner, straight into the forge's state.
    expect(((await api(forge, `/repos/${REPO}/issues?labels=bzzz`)).body as Array<{ number: number }>).map((i) => i.number)).toEqual([5])
    await forge.label(2)
    expect(((await api(forge, `/repos/${REPO}/issues?labels=bzzz`)).body as Array<{ number: number }>).map((i) => i.number).sort()).toEqual([2, 5])

    // A failure report on task 1 (a comment with its marker) is a publication; a plain comment is not.
    await api(forge, `/repos/${REPO}/issues/1/comments`, { method: 'POST', body: { body: 'failed <!-- bzzz:failure {"task":"#1"} -->' } })
    await api(forge, `/repos/${REPO}/issues/3/comments`, { method: 'POST', body: { body: 'just a note' } })
    expect(await forge.publications(3)).toEqual({
      'sim-org/tasks#1': { pulls: 0, issues: 0, reports: 1 },
      'sim-org/tasks#2': { pulls: 0, issues: 0, reports: 0 },
      'sim-org/tasks#3': { pulls: 0, issues: 0, reports: 0 }
    })
    // The peer commented on issue 3, which the runner may call ineligible here.
    expect(await forge.ineligible([3, 4])).toEqual([{ issue: 3, touched: 1 }, { issue: 4, touched: 0 }])
    expect(await forge.forksReady([peerLogin(0)])).toBe(false)
    expect(await forge.peakRssMb()).toBeGreaterThan(10)
  })

  it('counts the counted requests of the given logins only, and applies faults', async () => {
    const forge = await start(1)
    await forge.countFrom([peerLogin(0)])
    await api(forge, `/repos/${REPO}/issues/1`)
    await api(forge, `/repos/${REPO}/issues/1`, { token: `ghs_sim${SALT}stranger` })
    await api(forge, '/rate_limit')
    expect(await forge.countStop()).toBe(1)
    expect(await forge.countStop()).toBe(0)

    await forge.setFaults({ errorRate: 1, errorStatuses: [503] })
    expect((await api(forge, `/repos/${REPO}/issues/1`)).status).toBe(503)
    await forge.setFaults({ errorRate: 0 })
    expect((await api(forge, `/repos/${REPO}/issues/1`)).status).toBe(200)
    await forge.burstRateLimit({ kind: 'secondary', durationMs: 60_000 })
    expect([403, 429]).toContain((await api(forge, `/repos/${REPO}/issues/1`)).status)
  })

  it('stops listening on close; a call after that, or to a forge process that died, fails with ForgeProcessError', async () => {
    const forge = await start(1)
    const url = forge.url
    await forge.close()
    await expect(fetch(`${url}/rate_limit`)).rejects.toThrow()
    await expect(forge.label(1)).rejects.toBeInstanceOf(ForgeProcessError)

    const other = await start(1)
    process.kill(other.pid, 'SIGKILL')
    await expect(other.publications(1)).rejects.toThrow(/forge: exited \(SIGKILL\)/)
  })
})
