import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createForge } from './forge.js'
import type { Forge } from './forge.js'
import { git } from './git.js'
import { baseInit } from './test-utils.js'

const ID = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' }

describe('a git client that disconnects in the middle of a push', () => {
  let forge: Forge
  let work: string
  beforeAll(async () => {
    forge = await createForge(baseInit())
    work = await mkdtemp(join(tmpdir(), 'forge-git-abort-test-'))
  })
  afterAll(async () => {
    await forge.close()
    await rm(work, { recursive: true, force: true })
  })

  it('does not block later pushes to the repository (the git child is ended)', async () => {
    // Half a receive-pack request body, then the connection drops.
    const u = new URL(forge.url)
    await new Promise<void>((resolve, reject) => {
      const sock = connect(Number(u.port), u.hostname, () => {
        sock.write([
          'POST /org/tasks.git/git-receive-pack HTTP/1.1',
          `Host: ${u.host}`,
          `Authorization: Basic ${Buffer.from('x-access-token:tok-alice').toString('base64')}`,
          'Content-Type: application/x-git-receive-pack-request',
          'Content-Length: 100000',
          '', ''
        ].join('\r\n'))
        sock.write('0000')
        setTimeout(() => { sock.destroy(); resolve() }, 300)
      })
      sock.on('error', reject)
    })
    // A normal push afterwards goes through.
    const dir = join(work, 'c')
    await git(['clone', '--quiet', forge.gitUrl('org', 'tasks', 'tok-alice'), dir])
    await git(['checkout', '--quiet', '-b', 'after-abort'], { cwd: dir })
    await writeFile(join(dir, 'x.txt'), 'x\n')
    await git(['add', 'x.txt'], { cwd: dir })
    await git(['commit', '--quiet', '-m', 'x'], { cwd: dir, env: ID })
    const ac = new AbortController()
    const timer = setTimeout(() => { ac.abort() }, 20_000)
    try {
      await git(['push', '--quiet', 'origin', 'after-abort'], { cwd: dir, signal: ac.signal })
    } finally {
      clearTimeout(timer)
    }
    expect(ac.signal.aborted).toBe(false)
    expect([...forge.state.repo('org', 'tasks').branches.keys()]).toContain('after-abort')
  }, 40_000)
})
