// The dashboard in a real browser (Debian's chromium through playwright-core): a task goes from
// announced to done on the page while it happens.
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Forge } from '@bzzz/forge'
import { startHttp, type HttpServer } from './http.js'
import type { BzzzNode } from './node.js'
import { FAST_TIMINGS, REPO, connectAll, testForge, testNode, waitFor } from './test-utils.js'

const CHROMIUM = '/usr/bin/chromium'
let forge: Forge
let nodes: BzzzNode[] = []
let http: HttpServer
let browser: Browser | undefined

beforeAll(async () => {
  forge = await testForge(['alpha', 'bravo'], [])
  const f = forge
  nodes = [
    // bravo does the work, slowly enough to be watched, and shows the dashboard.
    await testNode({ name: 'alpha', forge: f, executor: false }),
    await testNode({
      name: 'bravo',
      forge: f,
      executor: { steps: [{ file: 'a.md', content: 'a\n', delayMs: 1500 }, { file: 'b.md', content: 'b\n', delayMs: 1500 }] },
      // A 1 s settle needs a lease above ~8 × settle + 5 s for the claim's fence to build its chain of reads.
      extra: { timings: { ...FAST_TIMINGS, settleMs: 1000, leaseMs: 16_000, renewEveryMs: 4000 } }
    })
  ]
  for (const n of nodes) await n.start()
  await connectAll(nodes)
  http = await startHttp({ node: nodes[1]!, token: 'dashboard-token-1' })
  if (existsSync(CHROMIUM)) browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await http.close()
  await Promise.all(nodes.map(async (n) => { await n.kill() }))
  await forge.close()
})

describe('dashboard', () => {
  it.skipIf(!existsSync(CHROMIUM))('shows a task going from announced to done, with its pull request, live', async () => {
    const page = await browser!.newPage()
    await page.goto(`${http.url}/`)
    await page.waitForSelector(`#peers tr[data-node="${nodes[0]!.nodeId}"] td.liveness.alive`, { timeout: 20_000 })
    // Record every state the task's row shows, as the page changes.
    await page.evaluate(`(() => {
      window.seen = []
      new MutationObserver(() => {
        for (const cell of document.querySelectorAll('#tasks tr td.status')) {
          const s = cell.textContent ?? ''
          if (window.seen.at(-1) !== s) window.seen.push(s)
        }
      }).observe(document.querySelector('#tasks tbody'), { childList: true, subtree: true, characterData: true })
    })()`)
    await waitFor('alpha to watch', () => nodes[0]!.status().watching.length > 0 || nodes[1]!.status().watching.length > 0)
    forge.createIssue('acme', 'tasks', { title: 'Write a and b', body: 'two files', author: 'maintainer', labels: ['bzzz'] })
    const row = `#tasks tr[data-key="${REPO}#1"]`
    await page.waitForSelector(`${row} td.status.done`, { timeout: 60_000 })
    const seen = await page.evaluate('window.seen') as string[]
    expect(seen[0]).toBe('announced')
    expect(seen).toContain('running')
    expect(seen.at(-1)).toBe('done')
    const link = await page.getAttribute(`${row} td.result a`, 'href')
    expect(link).toMatch(new RegExp(`^${forge.url}/acme/tasks/pull/\\d+$`))
    // The feed showed the agent's progress and the result as they happened.
    const feed = await page.locator('#feed .event').allTextContents()
    expect(feed.some((l) => l.includes('task:progress'))).toBe(true)
    expect(feed.some((l) => l.includes('task:result'))).toBe(true)
  }, 90_000)
})
