import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseClaimMarker } from '@bzzz/github'
import { describe, expect, it } from 'vitest'
import { REPO, testForge, testNode } from './test-utils.js'

describe('a work directory that cannot be made', () => {
  it('fails the start, before any claim', async () => {
    const forge = await testForge(['a'], [])
    const dataDir = await mkdtemp(join(tmpdir(), 'bzzz-workdir-'))
    // The node's work root (<dataDir>/work) is a file: no directory can be made there.
    await writeFile(join(dataDir, 'work'), 'not a directory')
    const node = await testNode({ name: 'a', forge, extra: { dataDir, store: 'memory' } })
    try {
      await expect(node.start()).rejects.toThrow(join(dataDir, 'work'))
      expect(node.phase).toBe('stopped')
    } finally {
      await node.kill()
      await forge.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it('once claimed, releases the claim at once and ends in an error, holding nothing', async () => {
    const forge = await testForge(['a'], [{ title: 'Add a file', body: 'x', author: 'maintainer', labels: ['bzzz'] }])
    const dataDir = await mkdtemp(join(tmpdir(), 'bzzz-workdir-'))
    const node = await testNode({ name: 'a', forge, extra: { dataDir, store: 'memory' } })
    const released: string[] = []
    node.on('task:released', (e) => { released.push(e.reason) })
    try {
      await node.start()
      // The work root is replaced by a file after the start (a cleaner, a full or broken disk).
      await rm(join(dataDir, 'work'), { recursive: true, force: true })
      await writeFile(join(dataDir, 'work'), 'not a directory')
      const end = await node.runTask(REPO, 1)
      expect(end).toMatchObject({ end: 'error' })
      expect(released).toEqual([expect.stringMatching(/^no work directory: /)])
      expect(node.status().active).toEqual([])
      const comments = await node.client.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner: 'acme', repo: 'tasks', issue_number: 1 })
      // Released: the claim comment is withdrawn, and the issue is free for another peer.
      expect(comments.data.filter((c) => parseClaimMarker(c.body ?? '') !== undefined)).toEqual([])
    } finally {
      await node.kill()
      await forge.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 60_000)
})
