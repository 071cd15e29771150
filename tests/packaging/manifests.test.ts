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

describe.each(workspacePackages().map((p) => [p.manifest.name, p] as const))('%s', (_name, pkg) => {
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

  it('README: absolute links only, and no command that runs only inside the repository', () => {
    expect(pkg.readme, 'a README.md').toBeDefined()
    expect(relativeLinks(pkg.readme ?? '')).toEqual([])
    expect(repositoryOnlyCommands(pkg.readme ?? '')).toEqual([])
  })
})
