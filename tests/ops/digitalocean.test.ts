// The DigitalOcean client (ops/digitalocean.ts) against the shared fake API on 127.0.0.1
// (tests/support/fake-digitalocean.ts): real requests, real pagination, the API's real error bodies.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DigitalOceanClient, describeUnsettledDeployments } from "../../ops/digitalocean";
import { globalFetch } from "../../ops/http";
import { FakeDigitalOcean } from "../support/fake-digitalocean";

const DIGEST = `sha256:${"a".repeat(64)}`;

let fake: FakeDigitalOcean;
beforeEach(async () => {
  fake = await FakeDigitalOcean.start();
});
afterEach(async () => {
  await fake.close();
});

const client = (token = fake.token) => new DigitalOceanClient(token, globalFetch, fake.api);

describe("DigitalOceanClient: the identity of what it lists", () => {
  it("keeps an app's project and a cluster's project and tags, as the API reference shapes them", async () => {
    fake.addApp("a1", DIGEST, "newsletter-pr-7");
    fake.projectOf.set("a1", "p7");
    fake.databases.push(
      {
        id: "d1",
        name: "newsletter-pr-7-db",
        engine: "pg",
        created_at: "2026-11-01T00:00:00Z",
        project_id: "p7",
        tags: ["pulumi:newsletter:pr-7"],
      },
      { id: "d2", name: "other", engine: "pg", created_at: "2026-11-01T00:00:00Z", tags: null },
    );
    expect(await client().listApps()).toEqual([
      { kind: "app", id: "a1", name: "newsletter-pr-7", createdAt: "2026-11-01T00:00:00Z", projectId: "p7" },
    ]);
    expect(await client().listDatabases()).toEqual([
      {
        kind: "database",
        id: "d1",
        name: "newsletter-pr-7-db",
        createdAt: "2026-11-01T00:00:00Z",
        projectId: "p7",
        tags: ["pulumi:newsletter:pr-7"],
      },
      { kind: "database", id: "d2", name: "other", createdAt: "2026-11-01T00:00:00Z" },
    ]);
  });

  it("lists projects, and counts the resources only of those that carry a stack identity", async () => {
    fake.projects.push(
      { id: "p0", name: "Default", description: "", created_at: "t" },
      { id: "p7", name: "newsletter-pr-7", description: "pulumi:newsletter:pr-7 (managed by Pulumi)", created_at: "t" },
    );
    fake.projectResources.set("p0", ["do:droplet:1"]);
    fake.projectResources.set("p7", ["do:app:a1", "do:dbaas:d1"]);
    expect(await client().listProjects()).toEqual([
      { id: "p0", name: "Default", description: "", createdAt: "t" },
      {
        id: "p7",
        name: "newsletter-pr-7",
        description: "pulumi:newsletter:pr-7 (managed by Pulumi)",
        createdAt: "t",
        resourceCount: 2,
      },
    ]);
    expect(fake.requests).toEqual([
      "GET /v2/projects?page=1&per_page=200",
      "GET /v2/projects/p7/resources?page=1&per_page=200",
    ]);
  });

  it("deletes an empty project, and reports the API's refusal of one that still holds resources", async () => {
    fake.projects.push(
      { id: "p7", name: "newsletter-pr-7", description: "pulumi:newsletter:pr-7", created_at: "t" },
      { id: "p8", name: "newsletter-pr-8", description: "pulumi:newsletter:pr-8", created_at: "t" },
    );
    fake.projectResources.set("p8", ["do:app:a8"]);
    await client().delete({ kind: "project", id: "p7", name: "newsletter-pr-7" });
    expect(fake.projects.map((p) => p.id)).toEqual(["p8"]);
    await expect(client().delete({ kind: "project", id: "p8", name: "newsletter-pr-8" })).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/answered 412: .*cannot delete a project with resources/),
    });
  });
});

describe("DigitalOceanClient", () => {
  it("lists apps across pages by following links.pages.next, with the token as bearer", async () => {
    for (let i = 0; i < 203; i++) fake.addApp(`app-${i}`, DIGEST, `newsletter-pr-${i}`, "2026-11-01T00:00:00Z");
    const apps = await client().listApps();
    expect(apps).toHaveLength(203);
    expect(apps[0]).toEqual({ kind: "app", id: "app-0", name: "newsletter-pr-0", createdAt: "2026-11-01T00:00:00Z" });
    expect(apps[202]?.name).toBe("newsletter-pr-202");
    expect(fake.requests).toEqual(["GET /v2/apps?page=1&per_page=200", "GET /v2/apps?page=2&per_page=200"]);
  });

  it("lists database clusters, also when the account has none", async () => {
    expect(await client().listDatabases()).toEqual([]);
    fake.databases.push({ id: "d1", name: "newsletter-pr-7-db", engine: "pg", created_at: "2026-11-01T00:00:00Z" });
    expect(await client().listDatabases()).toEqual([
      { kind: "database", id: "d1", name: "newsletter-pr-7-db", createdAt: "2026-11-01T00:00:00Z" },
    ]);
  });

  it("deletes by id and treats an already deleted resource as done", async () => {
    fake.addApp("a1", DIGEST, "newsletter-pr-7");
    const c = client();
    await c.delete({ kind: "app", id: "a1", name: "newsletter-pr-7" });
    await c.delete({ kind: "app", id: "a1", name: "newsletter-pr-7" });
    await c.delete({ kind: "database", id: "gone", name: "newsletter-pr-7-db" });
    expect(fake.requests).toEqual(["DELETE /v2/apps/a1", "DELETE /v2/apps/a1", "DELETE /v2/databases/gone"]);
    expect(await c.listApps()).toEqual([]);
  });

  it("lists a repository's tags across pages, the repository URL-encoded in the path", async () => {
    const tags = Array.from({ length: 201 }, (_, i) => `pr-4-${String(i).padStart(3, "0")}`);
    fake.tags.set("acme/team/newsletter", tags);
    expect(await client().listRepositoryTags({ registry: "acme", repository: "team/newsletter" })).toEqual(tags);
    expect(fake.requests).toEqual([
      "GET /v2/registries/acme/repositories/team%2Fnewsletter/tags?page=1&per_page=200",
      "GET /v2/registries/acme/repositories/team%2Fnewsletter/tags?page=2&per_page=200",
    ]);
  });

  it("lists no tags for a repository that does not exist", async () => {
    expect(await client().listRepositoryTags({ registry: "acme", repository: "gone" })).toEqual([]);
    // The 404 came from the tags endpoint itself, not from a wrong URL.
    expect(fake.requests).toEqual(["GET /v2/registries/acme/repositories/gone/tags?page=1&per_page=200"]);
  });

  it("deletes one tag and treats an already deleted tag as done", async () => {
    fake.tags.set("acme/newsletter", ["pr-4-aaa", "production-bbb"]);
    const repository = { registry: "acme", repository: "newsletter" };
    await client().deleteRepositoryTag(repository, "pr-4-aaa");
    await client().deleteRepositoryTag(repository, "pr-4-gone");
    expect(fake.tags.get("acme/newsletter")).toEqual(["production-bbb"]);
  });

  it("reports a refused tag deletion (a token without registry:delete) with exit code 1 and the API's reason", async () => {
    fake.tags.set("acme/newsletter", ["pr-4-aaa"]);
    fake.refuseTagDeletion.add("pr-4-aaa");
    await expect(
      client().deleteRepositoryTag({ registry: "acme", repository: "newsletter" }, "pr-4-aaa"),
    ).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(
        /answered 403: forbidden: You are not authorized to perform this operation \(request [0-9a-f-]{36}\)$/,
      ),
    });
  });

  it("reports other API errors with exit code 1", async () => {
    await expect(client("dop_v1_wrong").listApps()).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringContaining(
        "GET /apps?page=1&per_page=200 answered 401: unauthorized: Unable to authenticate you.",
      ),
    });
  });
});

describe("deployments still under way after pulumi up", () => {
  // The listing as apps_list_deployments.yml answers it, with `cause_details` (godo apps.gen.go, DeploymentCauseDetails).
  const listing = (deployments: unknown[]) => async () =>
    new Response(JSON.stringify({ deployments, links: { pages: {} }, meta: { total: deployments.length } }), {
      status: 200,
      headers: { "content-type": "application/json" },
    });

  it("lists the unfinished ones with their cause, and says when App Platform started one after a trusted-sources change", async () => {
    const fetch = listing([
      { id: "d3", phase: "DEPLOYING", cause_details: { type: "UPDATE_DATABASE_TRUSTED_SOURCES" } },
      { id: "d2", phase: "ACTIVE", cause_details: { type: "MANUAL" } },
      { id: "d1", phase: "SUPERSEDED", cause_details: { type: "MANUAL" } },
    ]);
    const unsettled = await new DigitalOceanClient("t", fetch).unsettledDeployments("app-1");
    expect(unsettled).toEqual([{ id: "d3", phase: "DEPLOYING", causeType: "UPDATE_DATABASE_TRUSTED_SOURCES" }]);
    expect(describeUnsettledDeployments("app-1", unsettled)).toBe(
      "App Platform is still deploying app app-1: d3 (DEPLOYING, started by App Platform after the database's " +
        "trusted sources changed). It runs the migration job again (safe: applied migrations are skipped) and " +
        "replaces the instances; wait until it is ACTIVE before verifying (`doctl apps list-deployments app-1`)",
    );
  });

  it("has nothing to say once every deployment is final", async () => {
    const fetch = listing([{ id: "d2", phase: "ACTIVE", cause_details: { type: "UPDATE_DATABASE_TRUSTED_SOURCES" } }]);
    const unsettled = await new DigitalOceanClient("t", fetch).unsettledDeployments("app-1");
    expect(unsettled).toEqual([]);
    expect(describeUnsettledDeployments("app-1", unsettled)).toBeUndefined();
  });
});
