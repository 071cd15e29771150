import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { examples, fencedBlocks, relativeLinks, repositoryOnlyCommands } from './markdown.js'

describe('README examples', () => {
  it('every ts/js block is an example; `check-only` is type-checked only; other languages are not examples', () => {
    const md = [
      '# x', '', '```ts', 'const a = 1', '```', '', '```sh', 'npx x', '```', '',
      '````ts check-only', 'const b = "```"', '````', '~~~js', 'c()', '~~~', ''
    ].join('\n')
    expect(examples(md)).toEqual([
      { line: 3, mode: 'run', code: 'const a = 1\n' },
      { line: 11, mode: 'check-only', code: 'const b = "```"\n' },
      { line: 14, mode: 'run', code: 'c()\n' }
    ])
  })

  it('a block\'s code comes back as written, whatever it holds (no fence of its own)', () => {
    const line = fc.string().filter((s) => !s.includes('\n') && !s.includes('\r') && !/^ {0,3}(```|~~~)/.test(s))
    fc.assert(fc.property(fc.array(line, { maxLength: 8 }), fc.nat(5), (lines, before) => {
      const md = `${'text\n'.repeat(before)}\`\`\`ts\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}\`\`\`\n`
      const [block, ...rest] = fencedBlocks(md)
      expect(rest).toEqual([])
      expect(block).toMatchObject({ line: before + 1, lang: 'ts', code: lines.length > 0 ? `${lines.join('\n')}\n` : '\n' })
    }))
  })
})

describe('README prose', () => {
  it('relative links are found, absolute ones and anchors are not, nor links inside code blocks', () => {
    const md = [
      'See [docs](../../docs/x.md), [repo](https://github.com/bzzz-mesh/bzzz), [below](#api),',
      '![logo](./logo.png)', '[ref]: ../protocol', '```ts', '// [not a link](../x)', '```'
    ].join('\n')
    expect(relativeLinks(md)).toEqual(['../../docs/x.md', './logo.png', '../protocol'])
  })

  it('commands that only run in the repository are found with their line', () => {
    const md = 'ok: `npx bzzz-forge --help`\n`pnpm --filter @bzzz/mesh bench`\nrun `node dist/cli.js`\n`npm install @bzzz/mesh`\n'
    expect(repositoryOnlyCommands(md).map((c) => c.line)).toEqual([2, 3])
  })
})
