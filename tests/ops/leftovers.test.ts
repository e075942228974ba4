import { describe, expect, it } from "vitest";
import { physicalName } from "../../infra/naming";
import { type CloudResource, findLeftovers, prOfResourceName, stackNamePrefix } from "../../ops/leftovers";

const HOUR = 3_600_000;
const now = new Date("2026-11-25T12:00:00.000Z");
const old = new Date(now.getTime() - 48 * HOUR).toISOString();
const fresh = new Date(now.getTime() - 10 * 60_000).toISOString();

// Fixtures shaped like the DigitalOcean API's apps and databases lists, names as infra/naming.ts makes them.
const app = (name: string, createdAt = old): CloudResource => ({ kind: "app", id: `app-${name}`, name, createdAt });
const db = (name: string, createdAt = old): CloudResource => ({ kind: "database", id: `db-${name}`, name, createdAt });

describe("prOfResourceName", () => {
  it("reads the PR from names infra/naming.ts gives a PR stack's resources", () => {
    expect(stackNamePrefix("pr-42")).toBe("newsletter-pr-42");
    expect(prOfResourceName(physicalName({ project: "newsletter", stack: "pr-42", maxLength: 32 }))).toBe(42);
    expect(prOfResourceName(physicalName({ project: "newsletter", stack: "pr-42", suffix: "db", maxLength: 63 }))).toBe(
      42,
    );
    // a name cut to the limit keeps the stack prefix and ends in a hash
    const cut = physicalName({
      project: "newsletter",
      stack: "pr-42",
      suffix: "a-very-long-component-name",
      maxLength: 32,
    });
    expect(cut.length).toBe(32);
    expect(prOfResourceName(cut)).toBe(42);
  });

  it("does not confuse pr-4 with pr-42 or match production, other projects or other PR-like names", () => {
    expect(prOfResourceName("newsletter-pr-4-db")).toBe(4);
    expect(prOfResourceName("newsletter-pr-42")).toBe(42);
    expect(prOfResourceName("newsletter-production")).toBeUndefined();
    expect(prOfResourceName("newsletter-production-db")).toBeUndefined();
    expect(prOfResourceName("othersite-pr-42")).toBeUndefined();
    expect(prOfResourceName("newsletter-pr-042")).toBeUndefined();
    expect(prOfResourceName("newsletter-pr-42x")).toBeUndefined();
    expect(prOfResourceName("xnewsletter-pr-42")).toBeUndefined();
  });
});

describe("findLeftovers", () => {
  const base = { openPrs: new Set([50]), now, minAgeMs: 2 * HOUR };

  it("reports PR resources whose stack is gone, with the PR's state", () => {
    const resources = [app("newsletter-pr-7"), db("newsletter-pr-7-db"), app("newsletter-pr-50")];
    expect(findLeftovers({ ...base, resources, stacks: new Set(["production"]) })).toEqual([
      {
        resource: app("newsletter-pr-7"),
        stack: "pr-7",
        pr: 7,
        reason: 'app "newsletter-pr-7" has no stack pr-7 (PR is closed)',
      },
      {
        resource: db("newsletter-pr-7-db"),
        stack: "pr-7",
        pr: 7,
        reason: 'database "newsletter-pr-7-db" has no stack pr-7 (PR is closed)',
      },
      {
        resource: app("newsletter-pr-50"),
        stack: "pr-50",
        pr: 50,
        reason: 'app "newsletter-pr-50" has no stack pr-50 (PR is still open)',
      },
    ]);
  });

  it("leaves resources whose stack still exists to that stack's destroy", () => {
    const resources = [app("newsletter-pr-7"), db("newsletter-pr-7-db")];
    expect(findLeftovers({ ...base, resources, stacks: new Set(["pr-7"]) })).toEqual([]);
  });

  it("never touches production's or unrelated resources, even with no stacks at all", () => {
    const resources = [
      app("newsletter-production"),
      db("newsletter-production-db"),
      app("blog"),
      db("newsletter-local-db"),
    ];
    expect(findLeftovers({ ...base, resources, stacks: new Set() })).toEqual([]);
  });

  it("ignores resources younger than the minimum age and those of unknown age", () => {
    const resources = [app("newsletter-pr-8", fresh), { kind: "app" as const, id: "x", name: "newsletter-pr-9" }];
    expect(findLeftovers({ ...base, resources, stacks: new Set() })).toEqual([]);
  });
});
