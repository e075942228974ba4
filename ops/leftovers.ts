// Cloud resources that outlived their per-PR stack: a teardown that failed half-way and then had its stack removed
// by hand, a `stack rm --force`, a crash between creating a resource and recording it. They are found by name:
// every physical name comes from infra/naming.ts (`newsletter-pr-42-db`), so a name tells which stack made it.
import { physicalName, sanitizeName } from "../infra/naming";
import { PROJECT, prStackName } from "./stacks";

export type CloudResourceKind = "app" | "database";

export interface CloudResource {
  readonly kind: CloudResourceKind;
  readonly id: string;
  readonly name: string;
  /** ISO time the provider created it. */
  readonly createdAt?: string;
}

export interface Leftover {
  readonly resource: CloudResource;
  readonly stack: string;
  readonly pr: number;
  readonly reason: string;
}

export interface LeftoverInput {
  readonly resources: readonly CloudResource[];
  /**
   * Stack names in the backend, listed AFTER the resources were: a stack is always created before its resources,
   * so any resource in `resources` whose stack exists is guaranteed to see that stack in this later listing.
   */
  readonly stacks: ReadonlySet<string>;
  readonly openPrs: ReadonlySet<number>;
  readonly now: Date;
  /** Younger resources are left alone: belt and braces against a stack being created right now. */
  readonly minAgeMs: number;
  readonly project?: string;
}

/** Physical names never exceed DigitalOcean's longest name limit; only the unshortened prefix matters here. */
const UNLIMITED = 255;

/** The stack prefix every physical name of `stack` starts with: `newsletter-pr-42`. */
export function stackNamePrefix(stack: string, project: string = PROJECT): string {
  return physicalName({ project, stack, maxLength: UNLIMITED });
}

/** The PR stack whose naming produced `name`, if any: `newsletter-pr-42-db` → 42; `newsletter-pr-4` ≠ pr-42. */
export function prOfResourceName(name: string, project: string = PROJECT): number | undefined {
  const match = new RegExp(`^${sanitizeName(project)}-pr-([1-9][0-9]*)(?:-|$)`).exec(name);
  if (match?.[1] === undefined) return undefined;
  const pr = Number(match[1]);
  const prefix = stackNamePrefix(prStackName(pr), project);
  return name === prefix || name.startsWith(`${prefix}-`) ? pr : undefined;
}

export function findLeftovers(input: LeftoverInput): Leftover[] {
  const project = input.project ?? PROJECT;
  const leftovers: Leftover[] = [];
  for (const resource of input.resources) {
    const pr = prOfResourceName(resource.name, project);
    if (pr === undefined) continue; // production's, another project's, or someone else's: never touched
    const stack = prStackName(pr);
    if (input.stacks.has(stack)) continue; // its stack exists: the stack's own destroy owns it
    const created = resource.createdAt === undefined ? undefined : Date.parse(resource.createdAt);
    if (created === undefined || Number.isNaN(created) || input.now.getTime() - created < input.minAgeMs) continue;
    const prState = input.openPrs.has(pr) ? "PR is still open" : "PR is closed";
    leftovers.push({
      resource,
      stack,
      pr,
      reason: `${resource.kind} "${resource.name}" has no stack ${stack} (${prState})`,
    });
  }
  return leftovers.sort((a, b) => a.pr - b.pr || a.resource.name.localeCompare(b.resource.name));
}
