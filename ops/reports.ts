// The Markdown the CLI writes for people: the review-environment PR comment, the reaper's run summary and the drift
// issue. Pure functions of what the commands found, so their content is tested without Pulumi or GitHub.
import type { Leftover } from "./leftovers";
import type { StackOutputs } from "./pulumi";
import type { ReapDecision } from "./reaper";
import { formatTtl } from "./tags";

/**
 * Stack output names the Pulumi program exports (infra/index.ts): the app's URL, the cost estimate in USD, the
 * repository its image is pushed to (DigitalOcean stacks deployed since the output was added), and the App Platform
 * app's id and the image digest its spec carries (what deploy verification checks).
 */
export const OUTPUT = {
  url: "url",
  cost: "estimatedMonthlyCostUsd",
  imageRepository: "imageRepository",
  appId: "appId",
  imageDigest: "imageDigest",
} as const;

export interface CostEstimate {
  readonly usdPerMonth: number;
  readonly lines: readonly { readonly item: string; readonly usdPerMonth: number }[];
  readonly pricesReadOn?: string;
}

/** A string output, or undefined when the stack does not export it (or exports it empty). */
export function outputString(outputs: StackOutputs, name: string): string | undefined {
  const value = outputs[name]?.value;
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function outputUrl(outputs: StackOutputs): string | undefined {
  return outputString(outputs, OUTPUT.url);
}

/** The estimate as a number (what infra/index.ts exports) or as infra/cost.ts's full CostEstimate object. */
export function outputCost(outputs: StackOutputs): CostEstimate | undefined {
  const value = outputs[OUTPUT.cost]?.value as number | Partial<CostEstimate> | null | undefined;
  if (typeof value === "number") return Number.isFinite(value) ? { usdPerMonth: value, lines: [] } : undefined;
  if (value === undefined || value === null || typeof value !== "object" || typeof value.usdPerMonth !== "number") {
    return undefined;
  }
  return {
    usdPerMonth: value.usdPerMonth,
    lines: Array.isArray(value.lines) ? value.lines : [],
    pricesReadOn: value.pricesReadOn,
  };
}

const usd = (amount: number): string => `$${amount.toFixed(2)}`;

export function costText(cost: CostEstimate | undefined): string {
  if (cost === undefined) return "not reported by the stack";
  const parts = cost.lines.map((line) => `${line.item} ${usd(line.usdPerMonth)}`).join(", ");
  const asOf =
    cost.pricesReadOn === undefined
      ? "DigitalOcean list prices (infra/prices.ts)"
      : `list prices of ${cost.pricesReadOn}`;
  return `${usd(cost.usdPerMonth)} per month${parts === "" ? "" : ` (${parts})`}, ${asOf}`;
}

export function reviewComment(input: {
  readonly pr: number;
  readonly outputs: StackOutputs;
  readonly commit: string;
  readonly ttlMs: number;
}): string {
  const url = outputUrl(input.outputs);
  return [
    `### Review environment for PR #${input.pr}: \`pr-${input.pr}\``,
    "",
    `**URL:** ${url ?? "not reported by the stack"}`,
    `**Estimated cost:** ${costText(outputCost(input.outputs))}`,
    "",
    `Deployed commit \`${input.commit.slice(0, 12)}\`. Every push redeploys it. It is destroyed when this PR closes, ` +
      `or by the reaper after ${formatTtl(input.ttlMs)} without a deploy (the next push creates it again).`,
    "",
  ].join("\n");
}

export interface ReapOutcome {
  readonly decisions: readonly ReapDecision[];
  /** Per destroyed-or-attempted stack: "destroyed", "skipped: …" or "failed: …". */
  readonly results: Readonly<Record<string, string>>;
  readonly leftovers: readonly Leftover[];
  readonly leftoverResults: Readonly<Record<string, string>>;
  /** Why the leftover search did not run, if it did not. */
  readonly leftoverSearch?: string;
  readonly dryRun: boolean;
}

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function reapReport(outcome: ReapOutcome): string {
  const lines = [`### Reaper${outcome.dryRun ? " (dry run: nothing destroyed)" : ""}`, ""];
  const destroy = outcome.decisions.filter((d) => d.action === "destroy");
  lines.push(`${destroy.length} of ${outcome.decisions.length} stacks to destroy.`, "");
  if (outcome.decisions.length > 0) {
    lines.push("| stack | decision | why | result |", "| --- | --- | --- | --- |");
    for (const d of outcome.decisions) {
      const result = outcome.results[d.stack] ?? (d.action === "destroy" && outcome.dryRun ? "dry run" : "");
      lines.push(`| \`${d.stack}\` | ${d.action} | ${cell(d.reason)} | ${cell(result)} |`);
    }
    lines.push("");
  }
  if (outcome.leftoverSearch !== undefined) {
    lines.push(`Leftover search: ${outcome.leftoverSearch}.`, "");
  } else if (outcome.leftovers.length === 0) {
    lines.push("No leftover resources of per-PR stacks.", "");
  } else {
    lines.push(
      "**Leftover resources (their stack is gone):**",
      "",
      "| resource | id | why | result |",
      "| --- | --- | --- | --- |",
    );
    for (const l of outcome.leftovers) {
      const key = `${l.resource.kind}:${l.resource.id}`;
      lines.push(
        `| ${l.resource.kind} \`${l.resource.name}\` | \`${l.resource.id}\` | ${cell(l.reason)} | ${cell(outcome.leftoverResults[key] ?? "reported only")} |`,
      );
    }
    lines.push("");
  }
  return lines.join("\n");
}

export function driftReport(input: {
  readonly stack: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly resources: readonly string[];
  readonly output: string;
  readonly runUrl?: string;
}): string {
  const counts = Object.entries(input.counts)
    .filter(([op, n]) => op !== "same" && n > 0)
    .map(([op, n]) => `${n} to ${op}`)
    .join(", ");
  const lines = [
    `### Drift on \`${input.stack}\``,
    "",
    `\`pulumi refresh --preview-only\` found differences between the state and what runs in DigitalOcean: **${counts || "changes"}**.`,
    "",
  ];
  if (input.resources.length > 0) lines.push("Resources:", ...input.resources.map((r) => `- \`${r}\``), "");
  lines.push(
    "Someone changed these outside Pulumi (the control panel, doctl), or the provider reports them differently. " +
      "Either make the program match and deploy, or run `pulumi refresh` to accept the live values, then " +
      "`pulumi up` to put the program's values back.",
    "",
  );
  if (input.runUrl !== undefined) lines.push(`Found by ${input.runUrl}.`, "");
  const output = input.output.trim();
  if (output !== "") {
    const shown = output.length > 50_000 ? `${output.slice(0, 50_000)}\n… (cut: see the workflow log)` : output;
    lines.push(
      "<details><summary>Refresh preview output</summary>",
      "",
      "```",
      shown.replace(/```/g, "ʼʼʼ"),
      "```",
      "",
      "</details>",
      "",
    );
  }
  return lines.join("\n");
}
