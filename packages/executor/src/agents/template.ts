// Command templates: how an adapter's command line is configured. An argument is a string or a
// group of strings; `{name}` placeholders are filled from the run's variables, and a group (or a
// lone argument, or an environment entry) that names a variable the run does not set is left out
// whole, so `['--model', '{model}']` disappears when no model is given.

export interface CommandTemplate {
  /** The executable (a name on PATH or an absolute path). */
  file: string
  args: Array<string | string[]>
  /** Environment entries for the agent; values may hold placeholders too. */
  env?: Record<string, string>
}

export type TemplateVars = Record<string, string | number | undefined>

const PLACEHOLDER = /\{([a-zA-Z][a-zA-Z0-9]*)\}/g

/** The text with every placeholder filled, or undefined when one of them has no value. */
export function fill (text: string, vars: TemplateVars): string | undefined {
  let missing = false
  const out = text.replace(PLACEHOLDER, (_all, name: string) => {
    const value = Object.hasOwn(vars, name) ? vars[name] : undefined
    if (value === undefined) { missing = true; return '' }
    return String(value)
  })
  return missing ? undefined : out
}

export function renderTemplate (template: CommandTemplate, vars: TemplateVars): { file: string, args: string[], env: Record<string, string> } {
  const args: string[] = []
  for (const arg of template.args) {
    const group = Array.isArray(arg) ? arg : [arg]
    const filled = group.map((a) => fill(a, vars))
    if (filled.every((a): a is string => a !== undefined)) args.push(...filled)
  }
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(template.env ?? {})) {
    const filled = fill(value, vars)
    if (filled !== undefined) env[key] = filled
  }
  return { file: fill(template.file, vars) ?? template.file, args, env }
}
