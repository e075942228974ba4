// Reads .github/workflows/*.yml with GitHub's own parser (@actions/workflow-parser, the one behind the Actions
// language service): schema errors with line and column, the converted model (events, jobs, steps), and a plain
// object view of the token tree for keys the model leaves out (permissions). Expressions become `${{ expr }}`.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import {
  convertWorkflowTemplate,
  NoOperationTraceWriter,
  parseWorkflow,
  type WorkflowTemplate,
} from "@actions/workflow-parser";

export const WORKFLOW_DIR = path.resolve(__dirname, "../../.github/workflows");

export interface ParsedWorkflow {
  readonly file: string;
  readonly content: string;
  readonly errors: readonly string[];
  readonly template: WorkflowTemplate;
  /** The whole file as plain data, from the parser's tokens. */
  readonly raw: Record<string, unknown>;
}

type Serialized =
  | { type: 2; map: { Key: Serialized; Value: Serialized }[] }
  | { type: 1; seq: Serialized[] }
  | { type: 3 | 4; expr: string }
  | string
  | number
  | boolean
  | null
  | undefined;

/** How `plain` writes an expression: `expr("github.sha")` is the text `${{ github.sha }}`. */
export const expr = (expression: string): string => `\${{ ${expression} }}`;

/** Token JSON (GitHub's serialization) → plain objects, arrays, literals and `${{ expr }}` strings. */
export function plain(token: Serialized): unknown {
  if (token === null || typeof token !== "object") return token;
  if (token.type === 2)
    return Object.fromEntries(token.map.map(({ Key, Value }) => [String(plain(Key)), plain(Value)]));
  if (token.type === 1) return token.seq.map(plain);
  return expr(token.expr);
}

export async function parseWorkflowFile(file: string, content: string): Promise<ParsedWorkflow> {
  const result = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  const errors = result.context.errors.getErrors().map((e) => e.message);
  if (result.value === undefined)
    return { file, content, errors, template: { events: {}, jobs: [] } as never, raw: {} };
  const template = await convertWorkflowTemplate(result.context, result.value);
  const raw = plain(JSON.parse(JSON.stringify(result.value)) as Serialized) as Record<string, unknown>;
  return { file, content, errors: [...errors, ...(template.errors ?? []).map((e) => e.Message)], template, raw };
}

export function workflowFiles(): string[] {
  return readdirSync(WORKFLOW_DIR)
    .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
    .sort();
}

export async function loadWorkflows(): Promise<ParsedWorkflow[]> {
  return Promise.all(
    workflowFiles().map((f) => parseWorkflowFile(f, readFileSync(path.join(WORKFLOW_DIR, f), "utf8"))),
  );
}

export type RawJob = Record<string, unknown> & {
  readonly permissions?: unknown;
  readonly steps?: readonly Record<string, unknown>[];
};

export function rawJobs(workflow: ParsedWorkflow): Record<string, RawJob> {
  return (workflow.raw.jobs ?? {}) as Record<string, RawJob>;
}

/** Every `run:` script of a job, as written. */
export function runScripts(job: RawJob): string[] {
  return (job.steps ?? []).map((step) => step.run).filter((run): run is string => typeof run === "string");
}

/** `secrets.X` or `secrets['X']` anywhere in an expression of this value. */
export function referencesSecrets(value: unknown): boolean {
  return /\bsecrets\s*(\.|\[)/.test(JSON.stringify(value));
}

export const SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository";
export const NOT_DEPENDABOT = "github.actor != 'dependabot[bot]'";

/**
 * The top-level `&&` operands of an expression: `a && (b || c) && 'x&&y'` → [`a`, `(b || c)`, `'x&&y'`]. GitHub
 * wraps a job's `if` as `success() && (<if>)`; that wrapper is unwrapped first.
 */
export function topLevelConjuncts(expression: string): string[] {
  const squashed = expression.replace(/\s+/g, " ").trim();
  const inner = /^success\(\) && \((.*)\)$/.exec(squashed)?.[1] ?? squashed;
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < inner.length; i += 1) {
    const ch = inner[i];
    if (ch === "'") quoted = !quoted;
    else if (!quoted && ch === "(") depth += 1;
    else if (!quoted && ch === ")") depth -= 1;
    else if (!quoted && depth === 0 && inner.startsWith(" && ", i)) {
      parts.push(inner.slice(start, i).trim());
      start = i + 4;
      i += 3;
    }
  }
  parts.push(inner.slice(start).trim());
  return parts;
}

/**
 * True when a job's `if` can only pass for a PR from this repository that Dependabot did not trigger: both tests are
 * top-level conjuncts, so no `||` can get around them.
 */
export function requiresSameRepository(jobIf: string | undefined): boolean {
  if (jobIf === undefined) return false;
  const conjuncts = topLevelConjuncts(jobIf);
  return conjuncts.includes(SAME_REPOSITORY) && conjuncts.includes(NOT_DEPENDABOT);
}

/** Every `secrets.X` name an expression anywhere in this value reads. */
export function secretNames(value: unknown): string[] {
  const text = JSON.stringify(value ?? null);
  return [...new Set([...text.matchAll(/\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? ""))].sort();
}

/** Split a shell command line into words, honouring quotes (enough for the `npm run ops -- …` lines here). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let current = "";
  let quote: '"' | "'" | undefined;
  let inWord = false;
  for (const ch of line) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}
