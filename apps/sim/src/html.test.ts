import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sampleReport } from './fixture.test.util.js'
import { renderHtml } from './html.js'
import { formatTable } from './table.js'

describe('HTML report', () => {
  let browser: Browser
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bzzz-sim-html-'))
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] })
  })
  afterAll(async () => {
    await browser?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('refers to nothing outside the page', () => {
    const html = renderHtml(sampleReport())
    expect(html).not.toMatch(/<script|<link|<img|src=|href=|@import|url\(/i)
  })

  it('renders its charts in Chromium with the network blocked', async () => {
    const report = sampleReport(6)
    const file = join(dir, 'report.html')
    await writeFile(file, renderHtml(report))
    const page = await browser.newPage()
    const blocked: string[] = []
    await page.route('**/*', async (route) => {
      const url = route.request().url()
      if (url.startsWith('file:') || url.startsWith('data:')) await route.continue()
      else { blocked.push(url); await route.abort() }
    })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()) })
    await page.goto(pathToFileURL(file).href)
    expect(await page.locator('#verdict').textContent()).toBe('PASS')
    // One bar per agent run (7: six tasks, one taken over), the takeover marked, both faults banded.
    expect(await page.locator('#timeline rect.run').count()).toBe(7)
    expect(await page.locator('#timeline rect.takeover').count()).toBe(1)
    expect(await page.locator('#timeline rect.fault').count()).toBe(2)
    expect(await page.locator('#timeline line.claim.won').count()).toBe(7)
    expect(await page.locator('#timeline circle.published').count()).toBe(6)
    const box = await page.locator('#timeline').boundingBox()
    expect(box!.width).toBeGreaterThan(500)
    expect(box!.height).toBeGreaterThan(50)
    for (const id of ['#claim-decision', '#claim-latency']) {
      expect(await page.locator(`${id} rect.bar`).count()).toBeGreaterThan(0)
      expect(await page.locator(`${id} line.marker`).count()).toBe(2)
      const bars = await page.locator(`${id} rect.bar`).evaluateAll((els) => els.map((e) => (e as unknown as { getBBox: () => { height: number } }).getBBox().height))
      expect(Math.max(...bars)).toBeGreaterThan(10)
    }
    expect(await page.locator('#recovery tr').count()).toBe(3)
    expect(blocked).toEqual([])
    expect(errors).toEqual([])
    await page.close()
  })
})

describe('terminal table', () => {
  it('shows the counts and names every failed check', () => {
    const r = sampleReport()
    const text = formatTable(r)
    expect(text).toMatch(/^Report: PASS/)
    expect(text).toContain('6 total, 5 done, 1 failed, 0 lost')
    expect(text).toContain('recovery (kill)')
    const failing = formatTable({ ...r, ok: false, invariants: [...r.invariants, { name: 'no lost task', ok: false, detail: '2 task(s) never published' }] })
    expect(failing).toMatch(/^Report: FAIL/)
    expect(failing).toContain('FAIL no lost task: 2 task(s) never published')
  })
})
