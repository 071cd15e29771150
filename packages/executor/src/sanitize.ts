// Untrusted text (issue titles and bodies, task input, CONTRIBUTING) goes into the prompt only
// cleaned and fenced: no invisible or bidirectional-control characters, and a fence that the
// text cannot close.

// Bidi controls (Trojan Source), zero-width and other invisible format characters, C0/C1
// controls other than tab and newline, and the Unicode tag block.
// eslint-disable-next-line no-control-regex, no-misleading-character-class
const INVISIBLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8]|\uDB40[\uDC00-\uDDEF]/g

/** Removes invisible and bidirectional-control characters; normalises line ends to `\n`. */
export function stripInvisible (text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(INVISIBLE, '')
}

/**
 * Cleans `text` and fences it as data: a backtick fence longer than any run of backticks
 * inside, labelled so that the agent knows where it came from.
 */
export function fence (label: string, text: string): string {
  const clean = stripInvisible(text)
  let longest = 0
  for (const m of clean.matchAll(/`+/g)) longest = Math.max(longest, m[0].length)
  const ticks = '`'.repeat(Math.max(3, longest + 1))
  return `${ticks}untrusted:${stripInvisible(label).replace(/[^\w.-]/g, '_')}\n${clean}\n${ticks}`
}
