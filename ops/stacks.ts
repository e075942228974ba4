// Stack names, parsed once at the edge of the CLI. The contract (team brief): the Pulumi project is `newsletter`,
// production is `production`, the local Docker stack is `local`, and each pull request gets `pr-<number>`.
import { usageError } from "./errors";

export const PROJECT = "newsletter";
export const PRODUCTION = "production";
export const LOCAL = "local";

export type StackRef =
  | { readonly kind: "production"; readonly name: typeof PRODUCTION }
  | { readonly kind: "local"; readonly name: typeof LOCAL }
  | { readonly kind: "pr"; readonly name: `pr-${number}`; readonly pr: number };

/** GitHub PR numbers are positive integers; the cap keeps names short and rejects pasted garbage. */
const MAX_PR_NUMBER = 99_999_999;
const PR_NUMBER = /^[1-9][0-9]*$/;
const PR_STACK = /^pr-([1-9][0-9]*)$/;

/** A PR number as typed on the command line: digits only, no sign, no leading zero, no `#`. */
export function parsePrNumber(raw: string): number {
  const trimmed = raw.trim();
  if (!PR_NUMBER.test(trimmed) || Number(trimmed) > MAX_PR_NUMBER) {
    throw usageError(`invalid pull request number "${raw}": expected a positive integer such as 42`);
  }
  return Number(trimmed);
}

export function prStackName(pr: number): `pr-${number}` {
  if (!Number.isSafeInteger(pr) || pr < 1 || pr > MAX_PR_NUMBER) throw usageError(`invalid pull request number ${pr}`);
  return `pr-${pr}`;
}

/** The PR number of a `pr-<number>` stack name, or undefined for any other name (production, local, anything else). */
export function prNumberOf(stackName: string): number | undefined {
  const match = PR_STACK.exec(stackName);
  if (match?.[1] === undefined) return undefined;
  const pr = Number(match[1]);
  return pr <= MAX_PR_NUMBER ? pr : undefined;
}

/** Fully qualified names (`org/newsletter/pr-42`) as `pulumi stack ls` prints them on some backends: the last part. */
export function shortStackName(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

export function parseStackRef(raw: string): StackRef {
  if (raw === PRODUCTION) return { kind: "production", name: PRODUCTION };
  if (raw === LOCAL) return { kind: "local", name: LOCAL };
  const pr = prNumberOf(raw);
  if (pr !== undefined) return { kind: "pr", name: prStackName(pr), pr };
  throw usageError(`invalid stack "${raw}": expected "${PRODUCTION}", "${LOCAL}" or "pr-<number>" (e.g. pr-42)`);
}
