import { describe, expect, it } from "vitest";
import { findMarked, GitHubClient, marker, nextPageUrl, parseRepository } from "../../ops/github";
import type { Fetch } from "../../ops/http";

interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly body?: unknown;
}

/** A scripted GitHub: answers by method + URL, records every request. */
function scripted(routes: Record<string, { status?: number; body?: unknown; link?: string }>): {
  fetch: Fetch;
  seen: Exchange[];
} {
  const seen: Exchange[] = [];
  const fetch: Fetch = async (url, init) => {
    const method = init?.method ?? "GET";
    seen.push({ method, url, body: init?.body === undefined ? undefined : JSON.parse(init.body) });
    const route = routes[`${method} ${url}`];
    if (route === undefined)
      return {
        ok: false,
        status: 404,
        headers: { get: () => null },
        json: async () => ({}),
        text: async () => "Not Found",
      };
    const status = route.status ?? 200;
    return {
      ok: status < 300,
      status,
      headers: { get: (name: string) => (name.toLowerCase() === "link" ? (route.link ?? null) : null) },
      json: async () => route.body,
      text: async () => JSON.stringify(route.body),
    };
  };
  return { fetch, seen };
}

const API = "https://api.github.com/repos/acme/newsletter";

describe("markers", () => {
  it("hides one marker per topic in the body and finds the oldest marked item", () => {
    expect(marker("preview-production")).toBe("<!-- newsletter-ops:preview-production -->");
    const items = [
      { id: 1, body: "hello" },
      { id: 2, body: `${marker("review-env")}\nold` },
      { id: 3, body: `${marker("review-env")}\nnewer` },
      { id: 4, body: null },
    ];
    expect(findMarked(items, "review-env")?.id).toBe(2);
    expect(findMarked(items, "preview-production")).toBeUndefined();
  });

  it("refuses topics that could break out of the HTML comment", () => {
    expect(() => marker("x -->")).toThrow(/invalid marker topic/);
  });
});

describe("nextPageUrl", () => {
  it("reads the next link of a GitHub Link header", () => {
    const link = `<${API}/pulls?page=2>; rel="next", <${API}/pulls?page=5>; rel="last"`;
    expect(nextPageUrl(link)).toBe(`${API}/pulls?page=2`);
    expect(nextPageUrl(`<${API}/pulls?page=1>; rel="prev"`)).toBeUndefined();
    expect(nextPageUrl(null)).toBeUndefined();
  });
});

describe("parseRepository", () => {
  it("accepts owner/name and names the variable otherwise", () => {
    expect(parseRepository("acme/newsletter")).toBe("acme/newsletter");
    expect(() => parseRepository(undefined)).toThrow(/GITHUB_REPOSITORY must be "owner\/name"/);
  });
});

describe("GitHubClient", () => {
  it("collects open PRs across every page", async () => {
    const { fetch } = scripted({
      [`GET ${API}/pulls?state=open&per_page=100`]: {
        body: [{ number: 3 }, { number: 5 }],
        link: `<${API}/pulls?state=open&per_page=100&page=2>; rel="next"`,
      },
      [`GET ${API}/pulls?state=open&per_page=100&page=2`]: { body: [{ number: 8 }] },
    });
    expect(await new GitHubClient("t", "acme/newsletter", fetch).openPullRequests()).toEqual(new Set([3, 5, 8]));
  });

  it("edits the PR's existing comment for the topic instead of adding one", async () => {
    const { fetch, seen } = scripted({
      [`GET ${API}/issues/42/comments?per_page=100`]: {
        body: [
          { id: 10, body: "lgtm" },
          { id: 11, body: `${marker("preview-production")}\nold` },
        ],
      },
      [`PATCH ${API}/issues/comments/11`]: {
        body: { html_url: "https://github.com/acme/newsletter/pull/42#issuecomment-11" },
      },
    });
    const url = await new GitHubClient("t", "acme/newsletter", fetch).upsertComment(
      42,
      "preview-production",
      "new body",
    );
    expect(url).toBe("https://github.com/acme/newsletter/pull/42#issuecomment-11");
    expect(seen.at(-1)).toEqual({
      method: "PATCH",
      url: `${API}/issues/comments/11`,
      body: { body: `${marker("preview-production")}\nnew body` },
    });
  });

  it("adds a comment when the topic has none yet", async () => {
    const { fetch, seen } = scripted({
      [`GET ${API}/issues/42/comments?per_page=100`]: { body: [] },
      [`POST ${API}/issues/42/comments`]: { status: 201, body: { html_url: "u" } },
    });
    await new GitHubClient("t", "acme/newsletter", fetch).upsertComment(42, "review-env", "hi");
    expect(seen.at(-1)).toEqual({
      method: "POST",
      url: `${API}/issues/42/comments`,
      body: { body: `${marker("review-env")}\nhi` },
    });
  });

  it("opens one drift issue, then updates it, skipping pull requests in the issue list", async () => {
    const first = scripted({
      [`GET ${API}/issues?state=open&per_page=100`]: {
        body: [{ id: 1, number: 9, body: `${marker("drift-production")}`, pull_request: {} }],
      },
      [`POST ${API}/issues`]: { status: 201, body: { html_url: "https://github.com/acme/newsletter/issues/12" } },
    });
    const client = new GitHubClient("t", "acme/newsletter", first.fetch);
    expect(
      await client.upsertIssue("drift-production", { title: "Drift on production", body: "b", labels: ["drift"] }),
    ).toBe("https://github.com/acme/newsletter/issues/12");
    expect(first.seen.at(-1)?.body).toEqual({
      title: "Drift on production",
      body: `${marker("drift-production")}\nb`,
      labels: ["drift"],
    });

    const second = scripted({
      [`GET ${API}/issues?state=open&per_page=100`]: {
        body: [{ id: 2, number: 12, body: `${marker("drift-production")}\nb` }],
      },
      [`PATCH ${API}/issues/12`]: { body: { html_url: "https://github.com/acme/newsletter/issues/12" } },
    });
    await new GitHubClient("t", "acme/newsletter", second.fetch).upsertIssue("drift-production", {
      title: "Drift on production",
      body: "c",
    });
    expect(second.seen.at(-1)).toEqual({
      method: "PATCH",
      url: `${API}/issues/12`,
      body: { title: "Drift on production", body: `${marker("drift-production")}\nc` },
    });
  });

  it("closes the open drift issue with a comment once the drift is gone, and does nothing when none is open", async () => {
    const { fetch, seen } = scripted({
      [`GET ${API}/issues?state=open&per_page=100`]: {
        body: [{ id: 2, number: 12, body: marker("drift-production") }],
      },
      [`POST ${API}/issues/12/comments`]: { status: 201, body: {} },
      [`PATCH ${API}/issues/12`]: { body: { html_url: "https://github.com/acme/newsletter/issues/12" } },
    });
    await new GitHubClient("t", "acme/newsletter", fetch).upsertIssue("drift-production", {
      title: "x",
      body: "No drift now.",
      close: true,
    });
    expect(seen.slice(1).map((s) => [s.method, s.url, s.body])).toEqual([
      ["POST", `${API}/issues/12/comments`, { body: "No drift now." }],
      ["PATCH", `${API}/issues/12`, { state: "closed", state_reason: "completed" }],
    ]);
    const none = scripted({ [`GET ${API}/issues?state=open&per_page=100`]: { body: [] } });
    expect(
      await new GitHubClient("t", "acme/newsletter", none.fetch).upsertIssue("drift-production", {
        title: "x",
        body: "y",
        close: true,
      }),
    ).toBe("");
    expect(none.seen).toHaveLength(1);
  });

  it("reports an API error with its status and exit code 1", async () => {
    const { fetch } = scripted({
      [`GET ${API}/pulls?state=open&per_page=100`]: {
        status: 403,
        body: { message: "Resource not accessible by integration" },
      },
    });
    await expect(new GitHubClient("t", "acme/newsletter", fetch).openPullRequests()).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringContaining("answered 403"),
    });
  });
});

describe("GitHub deployments", () => {
  const sha = "0123456789abcdef0123456789abcdef01234567";

  it("creates the deployment without waiting for checks, then its status with the environment URL", async () => {
    const { fetch, seen } = scripted({
      [`POST ${API}/deployments`]: { status: 201, body: { id: 99 } },
      [`POST ${API}/deployments/99/statuses`]: { status: 201, body: { id: 1 } },
    });
    const client = new GitHubClient("t", "acme/newsletter", fetch);
    const url = "https://newsletter-pr-42-x1y2z.ondigitalocean.app";
    expect(
      await client.recordDeployment({ environment: "pr-42", ref: sha, state: "success", url, logUrl: "https://run" }),
    ).toBe(url);
    expect(seen).toEqual([
      {
        method: "POST",
        url: `${API}/deployments`,
        body: {
          ref: sha,
          environment: "pr-42",
          description: "Review environment pr-42",
          auto_merge: false,
          required_contexts: [],
          transient_environment: false,
          production_environment: false,
        },
      },
      {
        method: "POST",
        url: `${API}/deployments/99/statuses`,
        body: { state: "success", environment_url: url, log_url: "https://run", auto_inactive: true },
      },
    ]);
  });

  it("records a failed deploy without a URL, and fails when GitHub returns no deployment id", async () => {
    const ok = scripted({
      [`POST ${API}/deployments`]: { status: 201, body: { id: 5 } },
      [`POST ${API}/deployments/5/statuses`]: { status: 201, body: {} },
    });
    const client = new GitHubClient("t", "acme/newsletter", ok.fetch);
    expect(await client.recordDeployment({ environment: "pr-7", ref: sha, state: "failure", url: "https://x" })).toBe(
      "",
    );
    expect(ok.seen[1]?.body).toEqual({ state: "failure", auto_inactive: true });
    // "Auto-merged ... during deployment" is a 202 with a message and no id (auto_merge is off, but never trust it).
    const merged = scripted({ [`POST ${API}/deployments`]: { status: 202, body: { message: "Auto-merged" } } });
    await expect(
      new GitHubClient("t", "acme/newsletter", merged.fetch).recordDeployment({
        environment: "pr-7",
        ref: sha,
        state: "success",
      }),
    ).rejects.toThrow(/creating a deployment for pr-7 returned no id/);
  });

  it("marks every deployment of the environment inactive, across pages", async () => {
    const list = `${API}/deployments?environment=pr-42&per_page=100`;
    const { fetch, seen } = scripted({
      [`GET ${list}`]: { body: [{ id: 1 }, { id: 2 }], link: `<${list}&page=2>; rel="next"` },
      [`GET ${list}&page=2`]: { body: [{ id: 3 }] },
      [`POST ${API}/deployments/1/statuses`]: { status: 201, body: {} },
      [`POST ${API}/deployments/2/statuses`]: { status: 201, body: {} },
      [`POST ${API}/deployments/3/statuses`]: { status: 201, body: {} },
    });
    expect(await new GitHubClient("t", "acme/newsletter", fetch).deactivateDeployments("pr-42")).toBe(3);
    expect(seen.filter((e) => e.method === "POST").map((e) => [e.url.replace(API, ""), e.body])).toEqual([
      ["/deployments/1/statuses", { state: "inactive" }],
      ["/deployments/2/statuses", { state: "inactive" }],
      ["/deployments/3/statuses", { state: "inactive" }],
    ]);
  });
});
