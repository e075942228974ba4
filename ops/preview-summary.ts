// Turns the steps of a `pulumi preview` (the engine's structured events, not its text) into the PR comment:
// counts first, then any replacement or deletion of a resource that holds data, then the list, then the full diff.
// Pure, so every wording and edge case is tested without Pulumi.

/** One step the engine plans (from `ResourcePreEvent.metadata` in the Automation API's event stream). */
export interface PlannedStep {
  readonly op: string;
  readonly urn: string;
  readonly type: string;
  /** Properties that force a replacement. */
  readonly keys?: readonly string[];
  /** Properties that differ (what a refresh found changed in the cloud). */
  readonly diffs?: readonly string[];
}

export type ChangeKind = "create" | "update" | "replace" | "delete" | "same";

export interface ResourceChange {
  readonly urn: string;
  readonly name: string;
  readonly type: string;
  readonly kind: ChangeKind;
  readonly replaceKeys: readonly string[];
}

export type ChangeCounts = Readonly<Record<ChangeKind, number>>;

/**
 * Resource types whose replacement or deletion loses data or breaks what depends on them: the managed Postgres
 * (cluster and database), the image registry, volumes and buckets. The local stack's Postgres volume is here too.
 */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  "digitalocean:index/databaseCluster:DatabaseCluster",
  "digitalocean:index/databaseDb:DatabaseDb",
  "digitalocean:index/containerRegistry:ContainerRegistry",
  "digitalocean:index/spacesBucket:SpacesBucket",
  "digitalocean:index/volume:Volume",
  "docker:index/volume:Volume",
]);

/** GitHub rejects comments over 65,536 characters; leave room for the marker and the footer. */
export const MAX_COMMENT_LENGTH = 60_000;
const MAX_TABLE_ROWS = 60;

/** The engine's ops folded into one kind per resource: a replacement shows up as several steps on one URN. */
function kindOf(ops: ReadonlySet<string>): ChangeKind | undefined {
  if (ops.has("replace") || ops.has("create-replacement") || ops.has("delete-replaced")) return "replace";
  if (ops.has("create") || ops.has("import")) return "create";
  if (ops.has("delete")) return "delete";
  if (ops.has("update")) return "update";
  if (ops.has("same")) return "same";
  return undefined; // read, refresh, discard: nothing changes in the cloud
}

/** `urn:pulumi:stack::project::parent$type::name` → `name`. */
export function resourceName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

export function foldSteps(steps: readonly PlannedStep[]): ResourceChange[] {
  const byUrn = new Map<string, { type: string; ops: Set<string>; keys: Set<string> }>();
  for (const step of steps) {
    const entry = byUrn.get(step.urn) ?? { type: step.type, ops: new Set<string>(), keys: new Set<string>() };
    entry.ops.add(step.op);
    for (const key of step.keys ?? []) entry.keys.add(key);
    byUrn.set(step.urn, entry);
  }
  const changes: ResourceChange[] = [];
  for (const [urn, entry] of byUrn) {
    // The stack itself (pulumi:pulumi:Stack) and providers are bookkeeping, not resources a reviewer weighs.
    if (entry.type === "pulumi:pulumi:Stack" || entry.type.startsWith("pulumi:providers:")) continue;
    const kind = kindOf(entry.ops);
    if (kind === undefined) continue;
    changes.push({ urn, name: resourceName(urn), type: entry.type, kind, replaceKeys: [...entry.keys].sort() });
  }
  return changes;
}

export function countChanges(changes: readonly ResourceChange[]): ChangeCounts {
  const counts: Record<ChangeKind, number> = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
  for (const change of changes) counts[change.kind] += 1;
  return counts;
}

export function statefulLosses(changes: readonly ResourceChange[]): ResourceChange[] {
  return changes.filter((c) => (c.kind === "replace" || c.kind === "delete") && STATEFUL_TYPES.has(c.type));
}

export function countsLine(counts: ChangeCounts): string {
  return `**${counts.create} to create · ${counts.update} to update · ${counts.replace} to replace · ${counts.delete} to delete** · ${counts.same} unchanged`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are exactly what is removed here
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export interface PreviewSummaryInput {
  readonly stack: string;
  readonly steps: readonly PlannedStep[];
  /** The text of `pulumi preview --diff`, shown folded at the end. */
  readonly diff?: string;
  /** The commit that was previewed. */
  readonly commit?: string;
  readonly maxLength?: number;
}

export interface PreviewSummary {
  readonly markdown: string;
  readonly counts: ChangeCounts;
  readonly stateful: readonly ResourceChange[];
  readonly hasChanges: boolean;
}

const code = (text: string): string => `\`${text.replace(/`/g, "'")}\``;

export function summarisePreview(input: PreviewSummaryInput): PreviewSummary {
  const changes = foldSteps(input.steps);
  const counts = countChanges(changes);
  const stateful = statefulLosses(changes);
  const changed = changes.filter((c) => c.kind !== "same");
  const lines: string[] = [`### Pulumi preview of ${code(input.stack)}`, "", countsLine(counts), ""];

  if (stateful.length > 0) {
    lines.push("> [!CAUTION]", "> **This change replaces or deletes resources that hold data:**");
    for (const c of stateful) {
      const because = c.replaceKeys.length > 0 ? `, because ${c.replaceKeys.map(code).join(", ")} changed` : "";
      lines.push(`> - **${c.kind}** ${code(c.name)} (${code(c.type)})${because}`);
    }
    lines.push("> A replacement creates an empty resource and deletes the old one with its data.", "");
  }

  if (changed.length === 0) {
    lines.push("No changes.", "");
  } else {
    lines.push("| change | resource | type |", "| --- | --- | --- |");
    for (const c of changed.slice(0, MAX_TABLE_ROWS)) lines.push(`| ${c.kind} | ${code(c.name)} | ${code(c.type)} |`);
    if (changed.length > MAX_TABLE_ROWS) lines.push(`| … | ${changed.length - MAX_TABLE_ROWS} more | |`);
    lines.push("");
  }

  const footer = input.commit === undefined ? [] : [`<sub>Previewed at commit ${code(input.commit)}.</sub>`];
  const head = lines.join("\n");
  // Stryker disable next-line StringLiteral: the footer has one line at most.
  const tail = footer.join("\n");
  const diff = (input.diff ?? "").replace(ANSI, "").trim();
  let body = head;
  if (diff !== "") {
    const open = "<details><summary>Full diff (<code>pulumi preview --diff</code>)</summary>\n\n```diff\n";
    const close = "\n```\n\n</details>\n";
    const room = (input.maxLength ?? MAX_COMMENT_LENGTH) - head.length - tail.length - open.length - close.length - 80;
    const shown =
      diff.length <= room ? diff : `${diff.slice(0, Math.max(0, room))}\n… (diff cut: see the workflow log)`;
    body = `${head}${open}${shown.replace(/```/g, "ʼʼʼ")}${close}`;
  }
  return {
    markdown: `${body}\n${tail}`.trimEnd().concat("\n"),
    counts,
    stateful,
    hasChanges: changed.length > 0,
  };
}

/**
 * What a `refresh --preview-only` found changed outside Pulumi: resources with an update or delete, or a refresh
 * step that reports differing properties. Names only, in order of appearance.
 */
export function driftedResources(steps: readonly PlannedStep[]): string[] {
  const names = new Set<string>();
  for (const step of steps) {
    if (step.type === "pulumi:pulumi:Stack" || step.type.startsWith("pulumi:providers:")) continue;
    const changed =
      ["update", "delete", "replace", "create"].includes(step.op) ||
      (step.op === "refresh" && (step.diffs?.length ?? 0) > 0);
    if (changed) names.add(`${resourceName(step.urn)} (${step.type})`);
  }
  return [...names];
}
