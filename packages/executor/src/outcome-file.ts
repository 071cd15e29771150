// The small structured file an agent writes to ask for follow-up issues or for help:
// `.bzzz/outcome.json` in the workspace. Never committed (the workspace excludes `.bzzz/`).
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import { OutcomeFileError } from './errors.js'

export const OUTCOME_FILE = '.bzzz/outcome.json'

export const FollowUpSchema = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 256 }),
  body: Type.String({ maxLength: 20_000 })
}, { additionalProperties: false })

export const OutcomeFileSchema = Type.Object({
  /** Issues to open after this task (follow-up work found on the way). */
  follow_ups: Type.Optional(Type.Array(FollowUpSchema, { maxItems: 10 })),
  /** A capability this task needs and this peer lacks: the task is handed on, not failed. */
  help: Type.Optional(Type.Object({
    capabilities: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 10 }),
    reason: Type.String({ minLength: 1, maxLength: 2000 })
  }, { additionalProperties: false })),
  /** One paragraph on what was done, used as the pull request's summary. */
  summary: Type.Optional(Type.String({ maxLength: 10_000 }))
}, { additionalProperties: false })

export type OutcomeFile = Static<typeof OutcomeFileSchema>
export type FollowUp = Static<typeof FollowUpSchema>

const validator = Compile(OutcomeFileSchema)

/** Parses the file's text. Throws `OutcomeFileError` with what is wrong. */
export function parseOutcomeFile (text: string, path = OUTCOME_FILE): OutcomeFile {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new OutcomeFileError(path, [`not JSON: ${(err as Error).message}`])
  }
  if (!validator.Check(value)) {
    throw new OutcomeFileError(path, validator.Errors(value).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message}`))
  }
  return value
}

/** Reads the workspace's outcome file; `undefined` when there is none. */
export async function readOutcomeFile (workspace: string): Promise<OutcomeFile | undefined> {
  let text: string
  try {
    text = await readFile(join(workspace, OUTCOME_FILE), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  return parseOutcomeFile(text)
}
