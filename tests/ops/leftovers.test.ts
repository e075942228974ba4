import { describe, expect, it } from "vitest";
import { stackIdentity } from "../../infra/naming";
import { type CloudProject, type CloudResource, findLeftovers, projectIdentity } from "../../ops/leftovers";

const HOUR = 3_600_000;
const now = new Date("2026-11-25T12:00:00.000Z");
const old = new Date(now.getTime() - 48 * HOUR).toISOString();
const fresh = new Date(now.getTime() - 10 * 60_000).toISOString();

// Fixtures shaped like the DigitalOcean API's projects, apps and databases lists, with the identity infra/project.ts
// writes into each stack's project description and infra/index.ts puts on each cluster as a tag.
const project = (stack: string, resourceCount = 1, createdAt = old, owner = "newsletter"): CloudProject => ({
  id: `p-${owner}-${stack}`,
  name: `${owner}-${stack}`,
  description: `${stackIdentity(owner, stack)} (managed by Pulumi; deleted with its stack)`,
  createdAt,
  resourceCount,
});
const app = (name: string, projectId?: string, createdAt = old): CloudResource => ({
  kind: "app",
  id: `app-${name}`,
  name,
  createdAt,
  ...(projectId === undefined ? {} : { projectId }),
});
const db = (name: string, tags: string[], createdAt = old): CloudResource => ({
  kind: "database",
  id: `db-${name}`,
  name,
  createdAt,
  tags,
});

describe("projectIdentity", () => {
  it("reads the identity a stack's project description starts with, and nothing else", () => {
    expect(projectIdentity("pulumi:newsletter:pr-42 (managed by Pulumi; deleted with its stack)")).toEqual({
      project: "newsletter",
      stack: "pr-42",
    });
    expect(projectIdentity("pulumi:newsletter:pr-42")).toEqual({ project: "newsletter", stack: "pr-42" });
    expect(projectIdentity("")).toBeUndefined();
    expect(projectIdentity("Our newsletter, pulumi:newsletter:pr-42")).toBeUndefined();
  });
});

describe("findLeftovers", () => {
  const base = { openPrs: new Set([50]), now, minAgeMs: 2 * HOUR };

  it("reports the resources of PR stacks that are gone, by their project or their tag, with the PR's state", () => {
    const projects = [project("pr-7"), project("pr-50")];
    const resources = [
      app("newsletter-pr-7", "p-newsletter-pr-7"),
      db("newsletter-pr-7-db", ["pulumi:newsletter:pr-7"]),
      app("newsletter-pr-50", "p-newsletter-pr-50"),
    ];
    expect(findLeftovers({ ...base, resources, projects, stacks: new Set(["production"]) })).toEqual([
      {
        resource: resources[0],
        stack: "pr-7",
        pr: 7,
        reason: 'app "newsletter-pr-7" has no stack pr-7 (PR is closed)',
      },
      {
        resource: resources[1],
        stack: "pr-7",
        pr: 7,
        reason: 'database "newsletter-pr-7-db" has no stack pr-7 (PR is closed)',
      },
      {
        resource: resources[2],
        stack: "pr-50",
        pr: 50,
        reason: 'app "newsletter-pr-50" has no stack pr-50 (PR is still open)',
      },
    ]);
  });

  it("never touches a resource without this project's identity, whatever its name", () => {
    const projects = [project("pr-7", 1, old, "othersite"), { id: "p-default", name: "Default", description: "" }];
    const resources = [
      app("newsletter-pr-7"), // the old name-based sweep would have deleted this one: no project, no tag
      app("newsletter-pr-8", "p-default"),
      app("othersite-pr-7", "p-othersite-pr-7"),
      db("newsletter-pr-7-db", ["pr-7", "newsletter"]),
      db("othersite-pr-7-db", ["pulumi:othersite:pr-7"]),
    ];
    expect(findLeftovers({ ...base, resources, projects, stacks: new Set() })).toEqual([]);
  });

  it("leaves resources whose stack still exists to that stack's destroy", () => {
    const projects = [project("pr-7")];
    const resources = [
      app("newsletter-pr-7", "p-newsletter-pr-7"),
      db("newsletter-pr-7-db", ["pulumi:newsletter:pr-7"]),
    ];
    expect(findLeftovers({ ...base, resources, projects, stacks: new Set(["pr-7"]) })).toEqual([]);
  });

  it("never touches production's, local's or a hand-made stack's resources, even with no stacks at all", () => {
    const projects = [project("production"), project("local"), project("staging", 0)];
    const resources = [
      app("newsletter-production", "p-newsletter-production"),
      db("newsletter-production-db", ["pulumi:newsletter:production"]),
      app("newsletter-staging", "p-newsletter-staging"),
    ];
    expect(findLeftovers({ ...base, resources, projects, stacks: new Set() })).toEqual([]);
  });

  it("deletes a gone stack's project only once it is empty, after its resources", () => {
    const projects = [project("pr-7", 1), project("pr-8", 0), project("pr-9", 2)];
    const resources = [app("newsletter-pr-7", "p-newsletter-pr-7")];
    const found = findLeftovers({ ...base, resources, projects, stacks: new Set(["pr-9"]) });
    expect(found.map((l) => `${l.resource.kind} ${l.resource.name}: ${l.reason}`)).toEqual([
      'app newsletter-pr-7: app "newsletter-pr-7" has no stack pr-7 (PR is closed)',
      'project newsletter-pr-8: project "newsletter-pr-8" is empty and has no stack pr-8 (PR is closed)',
    ]);
    expect(found[1]?.resource).toEqual({
      kind: "project",
      id: "p-newsletter-pr-8",
      name: "newsletter-pr-8",
      createdAt: old,
    });
  });

  it("ignores resources younger than the minimum age and those of unknown age, but keeps their project", () => {
    const projects = [project("pr-8", 0), project("pr-9", 0, fresh)];
    const resources = [
      app("newsletter-pr-8", "p-newsletter-pr-8", fresh),
      { kind: "app" as const, id: "x", name: "newsletter-pr-8-b", projectId: "p-newsletter-pr-8" },
    ];
    // pr-8's project is listed as empty but still holds these (listed later than the count): not deleted now.
    expect(findLeftovers({ ...base, resources, projects, stacks: new Set() })).toEqual([]);
  });
});
