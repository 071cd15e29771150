import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { diffPaths, extractDiff } from './diff.js'

describe('extractDiff / diffPaths', () => {
  it('finds a fenced diff, and the paths it touches', () => {
    const reply = 'Sure.\n```diff\n--- a/src/x.ts\n+++ b/src/x.ts\n@@ -1 +1 @@\n-a\n+b\n--- /dev/null\n+++ b/new.md\n@@ -0,0 +1 @@\n+n\n```\nDone.'
    const diff = extractDiff(reply)
    expect(diff).toBe('--- a/src/x.ts\n+++ b/src/x.ts\n@@ -1 +1 @@\n-a\n+b\n--- /dev/null\n+++ b/new.md\n@@ -0,0 +1 @@\n+n\n')
    expect(diffPaths(diff ?? '')).toEqual(['src/x.ts', 'new.md'])
  })

  it('a deleted file is named by its old path; a bare diff is found too', () => {
    const diff = extractDiff('diff --git a/old.txt b/old.txt\n--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x')
    expect(diffPaths(diff ?? '')).toEqual(['old.txt'])
  })

  it('no diff in prose; never throws on anything', () => {
    expect(extractDiff('All done, nothing to change.')).toBeUndefined()
    fc.assert(fc.property(fc.string(), (s) => {
      const d = extractDiff(s)
      for (const p of diffPaths(d ?? s)) expect(p).not.toBe('/dev/null')
    }))
  })
})
