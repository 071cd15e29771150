import { describe, expect, it } from 'vitest'
import { floorOf } from './harness.js'
import { problems, specifiers, type PackageManifest } from './tarball.js'

const whole = (): { manifest: PackageManifest, files: Map<string, string> } => ({
  manifest: {
    name: '@bzzz/x',
    version: '1.0.0',
    license: 'MIT',
    repository: { type: 'git', url: 'git+https://github.com/bzzz-mesh/bzzz.git' },
    engines: { node: '>=22' },
    bin: { x: './dist/cli.js' },
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './package.json': './package.json' },
    dependencies: { dep: '^1.0.0' }
  },
  files: new Map([
    ['package.json', '{}'],
    ['LICENSE', 'MIT'],
    ['dist/index.js', "import { a } from './a.js'\nimport 'dep/sub'\nimport { readFile } from 'node:fs'\nexport { a }\n//# sourceMappingURL=index.js.map\n"],
    ['dist/index.js.map', JSON.stringify({ version: 3, sources: ['../src/index.ts'], sourcesContent: ['export {}'], mappings: '' })],
    ['dist/index.d.ts', "export { a } from './a.js'\n"],
    ['dist/a.js', 'export const a = 1\n'],
    ['dist/a.d.ts', 'export declare const a = 1\n'],
    ['dist/cli.js', '#!/usr/bin/env node\n']
  ])
})

describe('a packed package', () => {
  it('that is whole has no problems', () => {
    expect(problems(whole())).toEqual([])
  })

  it('each defect the issue found is reported', () => {
    const p = whole()
    p.files.delete('LICENSE')
    p.files.set('dist/index.js.map', JSON.stringify({ version: 3, sources: ['../src/index.ts'], mappings: '' }))
    p.files.set('dist/b.js', "import x from 'undeclared'\nimport y from './gone.js'\n")
    p.manifest.exports = { '.': { '@bzzz/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' } }
    p.manifest.scripts = { bench: 'tsc -b && node dist/x.bench.js', prepack: 'tsc -b' }
    p.manifest.bin = { x: './dist/missing.js' }
    delete p.manifest.repository
    expect(problems(p).sort()).toEqual([
      'bin["x"]: ./dist/missing.js is not in the tarball',
      'dist/b.js: imports ./gone.js, which is not in the tarball',
      'dist/b.js: imports undeclared, but undeclared is not a dependency',
      'dist/index.js.map: source ../src/index.ts is neither shipped nor inlined',
      'exports: no "./package.json" export',
      'exports: the in-repository condition "@bzzz/source" is published',
      'exports["."]["@bzzz/source"]: ./src/index.ts is not in the tarball',
      'no LICENSE file',
      'no `repository` field',
      'scripts.bench: dist/x.bench.js is not in the tarball',
      'scripts.bench: runs tsc, which a user of the package does not have'
    ])
  })

  it('specifiers are read from static, dynamic, side-effect and type imports', () => {
    expect(specifiers("import a from 'a'\nimport type { B } from \"b\"\nexport * from './c.js'\nimport 'd'\nconst e = await import('e')\ntype F = import('f').F\n").sort())
      .toEqual(['./c.js', 'a', 'b', 'd', 'e', 'f'])
  })
})

describe('the Node.js floor of an engines range', () => {
  it('is its lowest lower bound', () => {
    expect(floorOf('>=22.13.0 <23 || >=23.4.0')).toBe('22.13.0')
    expect(floorOf('>=22')).toBe('22.0.0')
    expect(floorOf('^20.10 || >=22')).toBe('20.10.0')
  })
})
