/** Labels of a repository, and the labels of an issue. */
import { notFound, validationFailed } from '../errors.js'
import { asString, COLOR, record } from './records.js'
import type { IssueRecord, LabelRecord, RepoRecord } from './records.js'
import { RepositoriesState } from './repositories.js'

export class LabelsState extends RepositoriesState {
  labelByName (repo: RepoRecord, name: string): LabelRecord | undefined {
    const n = name.toLowerCase()
    for (const l of repo.labels.values()) if (l.name.toLowerCase() === n) return l
    return undefined
  }

  listLabels (repo: RepoRecord): LabelRecord[] {
    return [...repo.labels.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  createLabel (repo: RepoRecord, actor: string, input: { name?: unknown, color?: unknown, description?: unknown }): LabelRecord {
    this.requireWrite(repo, actor, 'write')
    const name = asString(input.name)
    if (name == null || name.trim() === '') throw validationFailed({ resource: 'Label', field: 'name', code: 'missing_field' })
    const color = input.color == null ? 'ededed' : asString(input.color)?.replace(/^#/, '')
    if (color == null || !COLOR.test(color)) throw validationFailed({ resource: 'Label', field: 'color', code: 'invalid' })
    if (this.labelByName(repo, name) != null) throw validationFailed({ resource: 'Label', field: 'name', code: 'already_exists' })
    return this.newLabel(repo, name, color, asString(input.description) ?? null)
  }

  updateLabel (repo: RepoRecord, actor: string, name: string, input: { new_name?: unknown, color?: unknown, description?: unknown }): LabelRecord {
    this.requireWrite(repo, actor, 'write')
    const label = this.labelByName(repo, name)
    if (label == null) throw notFound()
    const newName = asString(input.new_name)
    if (newName != null && newName.toLowerCase() !== label.name.toLowerCase() && this.labelByName(repo, newName) != null) {
      throw validationFailed({ resource: 'Label', field: 'name', code: 'already_exists' })
    }
    const color = input.color == null ? undefined : asString(input.color)?.replace(/^#/, '')
    if (color != null && !COLOR.test(color)) throw validationFailed({ resource: 'Label', field: 'color', code: 'invalid' })
    if (newName != null) label.name = newName
    if (color != null) label.color = color.toLowerCase()
    if (input.description !== undefined) label.description = asString(input.description) ?? null
    return label
  }

  deleteLabel (repo: RepoRecord, actor: string, name: string): void {
    this.requireWrite(repo, actor, 'write')
    const label = this.labelByName(repo, name)
    if (label == null) throw notFound()
    repo.labels.delete(label.id)
    for (const issue of repo.issues.values()) {
      if (issue.labels.includes(label.id)) {
        issue.labels = issue.labels.filter((id) => id !== label.id)
        record(issue, this.now())
      }
    }
  }

  /** Label ids for names, creating the missing labels as GitHub does when labelling an issue. */
  protected ensureLabels (repo: RepoRecord, names: string[]): number[] {
    const ids: number[] = []
    for (const n of names) {
      if (n.trim() === '') throw validationFailed({ resource: 'Label', field: 'name', code: 'invalid' })
      const label = this.labelByName(repo, n) ?? this.newLabel(repo, n, 'ededed', null)
      if (!ids.includes(label.id)) ids.push(label.id)
    }
    return ids
  }

  issueLabels (repo: RepoRecord, issue: IssueRecord): LabelRecord[] {
    return issue.labels.map((id) => repo.labels.get(id)).filter((l): l is LabelRecord => l != null)
  }
}
