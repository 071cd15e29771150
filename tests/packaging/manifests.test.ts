// The packaging fields of every workspace package, checked in the repository (fast; the packed
// test checks the tarballs themselves).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, floorOf, workspacePackages } from './harness.js'
import { relativeLinks, repositoryOnlyCommands } from './markdown.js'

const REPOSITORY = 'git+https://github.com/bzzz-mesh/bzzz.git'
const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8')

function withoutSourceCondition (exports: unknown): unknown {
  if (exports === null || typeof exports !== 'object' || Array.isArray(exports)) return exports
  return Object.fromEntries(Object.entries(exports).filter(([k]) => k !== '@bzzz/source').map(([k, v]) => [k, withoutSourceCondition(v)]))
}

const all = workspacePackages()

/** `a` is at least `b` (versions as `x.y.z`). */
function atLeast (a: string, b: string): boolean {
  const pa = a.split('.').map(Number); const pb = b.split('.').map(Number)
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) > (pb[i] ?? 0)
  return true
}

describe.each(all.map((p) => [p.manifest.name, p] as const))('%s', (_name, pkg) => {
  const m = pkg.manifest as typeof pkg.manifest & { files?: string[], publishConfig?: { exports?: unknown }, homepage?: string }

  it('publishes the exports without the in-repository @bzzz/source condition, and nothing else changed', () => {
    expect(m.publishConfig?.exports).toEqual(withoutSourceCondition(m.exports))
  })

  it('names the repository and its directory, builds before packing, ships the LICENSE', () => {
    expect(m.repository).toEqual({ type: 'git', url: REPOSITORY, directory: pkg.dir })
    expect(m.scripts?.prepack).toBe('tsc -b')
    expect(m.files).toContain('LICENSE')
    expect(readFileSync(join(ROOT, pkg.dir, 'LICENSE'), 'utf8')).toBe(license)
    expect(m.license).toBe('MIT')
    expect(() => floorOf(m.engines?.node ?? '')).not.toThrow()
  })

  it('declares a Node.js floor no lower than that of any workspace package it depends on', () => {
    const floor = floorOf(m.engines?.node ?? '>=0')
    for (const dep of Object.keys(m.dependencies ?? {})) {
      const d = all.find((p) => p.manifest.name === dep)
      if (d === undefined) continue
      const depFloor = floorOf(d.manifest.engines?.node ?? '>=0')
      expect(atLeast(floor, depFloor), `${m.name} engines.node "${m.engines?.node ?? ''}" is below ${dep}'s "${d.manifest.engines?.node ?? ''}"`).toBe(true)
    }
  })

  it('README: absolute links only, and no command that runs only inside the repository', () => {
    expect(pkg.readme, 'a README.md').toBeDefined()
    expect(relativeLinks(pkg.readme ?? '')).toEqual([])
    expect(repositoryOnlyCommands(pkg.readme ?? '')).toEqual([])
  })
})
