import { describe, expect, it } from "vitest";
import { DigitalOceanClient } from "../../ops/digitalocean";
import type { Fetch } from "../../ops/http";

const API = "https://api.digitalocean.com/v2";

function scripted(routes: Record<string, { status?: number; body?: unknown }>): { fetch: Fetch; seen: string[] } {
  const seen: string[] = [];
  const fetch: Fetch = async (url, init) => {
    const key = `${init?.method ?? "GET"} ${url}`;
    seen.push(`${key} ${init?.headers?.Authorization ?? ""}`);
    const route = routes[key] ?? { status: 404, body: { id: "not_found" } };
    const status = route.status ?? 200;
    return {
      ok: status < 300,
      status,
      headers: { get: () => null },
      json: async () => route.body,
      text: async () => JSON.stringify(route.body),
    };
  };
  return { fetch, seen };
}

describe("DigitalOceanClient", () => {
  it("lists apps across pages by following links.pages.next, with the token as bearer", async () => {
    const { fetch, seen } = scripted({
      [`GET ${API}/apps?page=1&per_page=200`]: {
        body: {
          apps: [{ id: "a1", spec: { name: "newsletter-pr-7" }, created_at: "2026-11-01T00:00:00Z" }],
          links: { pages: { next: `${API}/apps?page=2&per_page=200` } },
        },
      },
      [`GET ${API}/apps?page=2&per_page=200`]: {
        body: {
          apps: [{ id: "a2", spec: { name: "newsletter-production" }, created_at: "2026-10-01T00:00:00Z" }],
          links: {},
        },
      },
    });
    expect(await new DigitalOceanClient("dop_v1_x", fetch).listApps()).toEqual([
      { kind: "app", id: "a1", name: "newsletter-pr-7", createdAt: "2026-11-01T00:00:00Z" },
      { kind: "app", id: "a2", name: "newsletter-production", createdAt: "2026-10-01T00:00:00Z" },
    ]);
    expect(seen[0]).toBe(`GET ${API}/apps?page=1&per_page=200 Bearer dop_v1_x`);
  });

  it("lists database clusters, also when the account has none (databases: null)", async () => {
    const some = scripted({
      [`GET ${API}/databases?page=1&per_page=200`]: {
        body: { databases: [{ id: "d1", name: "newsletter-pr-7-db", created_at: "2026-11-01T00:00:00Z" }] },
      },
    });
    expect(await new DigitalOceanClient("t", some.fetch).listDatabases()).toEqual([
      { kind: "database", id: "d1", name: "newsletter-pr-7-db", createdAt: "2026-11-01T00:00:00Z" },
    ]);
    const none = scripted({ [`GET ${API}/databases?page=1&per_page=200`]: { body: { databases: null } } });
    expect(await new DigitalOceanClient("t", none.fetch).listDatabases()).toEqual([]);
  });

  it("deletes by id and treats an already deleted resource as done", async () => {
    const { fetch, seen } = scripted({ [`DELETE ${API}/apps/a1`]: { status: 204 } });
    const client = new DigitalOceanClient("t", fetch);
    await client.delete({ kind: "app", id: "a1", name: "newsletter-pr-7" });
    await client.delete({ kind: "database", id: "gone", name: "newsletter-pr-7-db" });
    expect(seen.map((s) => s.split(" ").slice(0, 2).join(" "))).toEqual([
      `DELETE ${API}/apps/a1`,
      `DELETE ${API}/databases/gone`,
    ]);
  });

  it("lists a repository's tags across pages, the repository URL-encoded in the path", async () => {
    const tags = `${API}/registries/acme/repositories/team%2Fnewsletter/tags`;
    const { fetch, seen } = scripted({
      [`GET ${tags}?page=1&per_page=200`]: {
        body: {
          tags: [{ registry_name: "acme", repository: "team/newsletter", tag: "pr-4-aaa" }],
          links: { pages: { next: `${tags}?page=2&per_page=200` } },
          meta: { total: 2 },
        },
      },
      [`GET ${tags}?page=2&per_page=200`]: {
        body: { tags: [{ registry_name: "acme", repository: "team/newsletter", tag: "production-bbb" }], links: {} },
      },
    });
    const client = new DigitalOceanClient("t", fetch);
    expect(await client.listRepositoryTags({ registry: "acme", repository: "team/newsletter" })).toEqual([
      "pr-4-aaa",
      "production-bbb",
    ]);
    expect(seen).toHaveLength(2);
  });

  it("lists no tags for a repository that does not exist", async () => {
    const { fetch, seen } = scripted({});
    expect(
      await new DigitalOceanClient("t", fetch).listRepositoryTags({ registry: "acme", repository: "gone" }),
    ).toEqual([]);
    // The 404 came from the tags endpoint itself, not from a wrong URL.
    expect(seen).toEqual([`GET ${API}/registries/acme/repositories/gone/tags?page=1&per_page=200 Bearer t`]);
  });

  it("deletes one tag and treats an already deleted tag as done", async () => {
    const tags = `${API}/registries/acme/repositories/newsletter/tags`;
    const { fetch, seen } = scripted({ [`DELETE ${tags}/pr-4-aaa`]: { status: 204 } });
    const client = new DigitalOceanClient("t", fetch);
    const repository = { registry: "acme", repository: "newsletter" };
    await client.deleteRepositoryTag(repository, "pr-4-aaa");
    await client.deleteRepositoryTag(repository, "pr-4-gone");
    expect(seen.map((s) => s.split(" ").slice(0, 2).join(" "))).toEqual([
      `DELETE ${tags}/pr-4-aaa`,
      `DELETE ${tags}/pr-4-gone`,
    ]);
  });

  it("reports a refused tag deletion (a token without registry:delete) with exit code 1", async () => {
    const { fetch } = scripted({
      [`DELETE ${API}/registries/acme/repositories/newsletter/tags/pr-4-aaa`]: {
        status: 403,
        body: { id: "forbidden", message: "You are not authorized to perform this operation" },
      },
    });
    const client = new DigitalOceanClient("t", fetch);
    await expect(
      client.deleteRepositoryTag({ registry: "acme", repository: "newsletter" }, "pr-4-aaa"),
    ).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining("answered 403") });
  });

  it("reports other API errors with exit code 1", async () => {
    const { fetch } = scripted({
      [`GET ${API}/apps?page=1&per_page=200`]: {
        status: 401,
        body: { id: "unauthorized", message: "Unable to authenticate you" },
      },
    });
    await expect(new DigitalOceanClient("t", fetch).listApps()).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringContaining("answered 401"),
    });
  });
});
