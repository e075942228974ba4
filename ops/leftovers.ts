// Cloud resources that outlived their per-PR stack: a teardown that failed half-way and then had its stack removed
// by hand, a `stack rm --force`, a crash between creating a resource and recording it. They are found by the
// identity the program puts on everything it creates (infra/naming.ts, stackIdentity: `pulumi:newsletter:pr-42`):
// every stack's apps and clusters live in the stack's own DigitalOcean project, whose description carries it
// (infra/project.ts), and clusters also carry it as a tag. A name alone proves nothing: another project, or a
// person, may well call an app `newsletter-pr-7`. So anything without this project's identity is never touched.
import { parseStackIdentity, sanitizeName } from "../infra/naming";
import { PROJECT, prNumberOf } from "./stacks";

export type CloudResourceKind = "app" | "database" | "project";

export interface CloudResource {
  readonly kind: CloudResourceKind;
  readonly id: string;
  readonly name: string;
  /** ISO time the provider created it. */
  readonly createdAt?: string;
  /** The DigitalOcean project it is assigned to (apps and database clusters). */
  readonly projectId?: string;
  /** Its tags (database clusters). */
  readonly tags?: readonly string[];
}

/** A DigitalOcean project, as the projects list gives it. */
export interface CloudProject {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly createdAt?: string;
  /** How many resources are still assigned to it, where that was asked (projects that carry an identity). */
  readonly resourceCount?: number;
}

export interface Leftover {
  readonly resource: CloudResource;
  readonly stack: string;
  readonly pr: number;
  readonly reason: string;
}

export interface LeftoverInput {
  readonly resources: readonly CloudResource[];
  readonly projects: readonly CloudProject[];
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

/** The identity a project's description starts with (infra/project.ts writes `<identity> (managed by Pulumi; …)`). */
export function projectIdentity(description: string): { project: string; stack: string } | undefined {
  const first = /^\S+/.exec(description.trim())?.[0];
  return first === undefined ? undefined : parseStackIdentity(first);
}

/** The stack whose identity the resource carries: a tag of its own, else its DigitalOcean project's description. */
export function identityOf(
  resource: CloudResource,
  projectsById: ReadonlyMap<string, CloudProject>,
): { project: string; stack: string } | undefined {
  for (const tag of resource.tags ?? []) {
    const identity = parseStackIdentity(tag);
    if (identity !== undefined) return identity;
  }
  const project = resource.projectId === undefined ? undefined : projectsById.get(resource.projectId);
  return project === undefined ? undefined : projectIdentity(project.description);
}

function oldEnough(createdAt: string | undefined, input: LeftoverInput): boolean {
  const created = createdAt === undefined ? Number.NaN : Date.parse(createdAt);
  return !Number.isNaN(created) && input.now.getTime() - created >= input.minAgeMs;
}

export function findLeftovers(input: LeftoverInput): Leftover[] {
  const project = sanitizeName(input.project ?? PROJECT);
  const projectsById = new Map(input.projects.map((p) => [p.id, p]));
  const leftovers: Leftover[] = [];
  /** A per-PR stack of this project that no longer exists, or undefined. */
  const goneStack = (identity: { project: string; stack: string } | undefined) => {
    if (identity === undefined || identity.project !== project) return undefined; // not ours: never touched
    const pr = prNumberOf(identity.stack);
    if (pr === undefined) return undefined; // production's, local's or a hand-made stack's: never a leftover
    if (input.stacks.has(identity.stack)) return undefined; // its stack exists: the stack's own destroy owns it
    return { stack: identity.stack, pr, prState: input.openPrs.has(pr) ? "PR is still open" : "PR is closed" };
  };

  const holding = new Set<string>();
  for (const resource of input.resources) {
    const gone = goneStack(identityOf(resource, projectsById));
    if (gone === undefined) continue;
    if (resource.projectId !== undefined) holding.add(resource.projectId);
    if (!oldEnough(resource.createdAt, input)) continue;
    leftovers.push({
      resource,
      stack: gone.stack,
      pr: gone.pr,
      reason: `${resource.kind} "${resource.name}" has no stack ${gone.stack} (${gone.prState})`,
    });
  }
  // The stack's DigitalOcean project goes once it is empty: the API refuses to delete a project that still holds
  // resources (412, "cannot delete a project with resources": terraform-provider-digitalocean
  // digitalocean/project/resource_project.go), so a project whose resources go in this run goes in the next.
  for (const p of input.projects) {
    const gone = goneStack(projectIdentity(p.description));
    if (gone === undefined || holding.has(p.id) || p.resourceCount !== 0 || !oldEnough(p.createdAt, input)) continue;
    leftovers.push({
      resource: { kind: "project", id: p.id, name: p.name, createdAt: p.createdAt },
      stack: gone.stack,
      pr: gone.pr,
      reason: `project "${p.name}" is empty and has no stack ${gone.stack} (${gone.prState})`,
    });
  }
  const order: Record<CloudResourceKind, number> = { app: 0, database: 1, project: 2 };
  return leftovers.sort(
    (a, b) =>
      a.pr - b.pr || order[a.resource.kind] - order[b.resource.kind] || a.resource.name.localeCompare(b.resource.name),
  );
}
