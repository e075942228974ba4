// The GitHub REST calls the workflows need: the list of open PRs (for the reaper), one PR comment per topic updated
// in place (preview, review environment), one issue per topic (drift), and a GitHub deployment per review
// environment (its URL behind the PR's "View deployment" button). Each comment or issue carries a hidden marker, so
// the next run finds and edits it instead of adding another. The token is the workflow's GITHUB_TOKEN; the job's
// `permissions` grant exactly what these calls need (pull-requests: read/write, issues: write, deployments: write).
import { ExitCode, OpsError } from "./errors";
import { type Fetch, globalFetch } from "./http";

const API = "https://api.github.com";
const MAX_PAGES = 50;

/** An HTML comment: invisible in the rendered comment, unique per topic. */
export function marker(topic: string): string {
  if (!/^[a-z0-9][a-z0-9:._-]*$/.test(topic)) throw new OpsError(`invalid marker topic "${topic}"`, ExitCode.usage);
  return `<!-- newsletter-ops:${topic} -->`;
}

export function withMarker(topic: string, body: string): string {
  return `${marker(topic)}\n${body}`;
}

/** The first item whose body carries the topic's marker (the oldest: the one the first run created). */
export function findMarked<T extends { readonly body?: string | null }>(
  items: readonly T[],
  topic: string,
): T | undefined {
  const tag = marker(topic);
  return items.find((item) => item.body?.includes(tag) === true);
}

/** The `next` URL of a GitHub `Link` header (RFC 8288), if any. */
export function nextPageUrl(link: string | null): string | undefined {
  if (link === null) return undefined;
  for (const part of link.split(",")) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match?.[1] !== undefined) return match[1];
  }
  return undefined;
}

export function parseRepository(raw: string | undefined): string {
  if (raw === undefined || !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(raw)) {
    throw new OpsError(
      `GITHUB_REPOSITORY must be "owner/name" (GitHub Actions sets it), got ${JSON.stringify(raw ?? null)}`,
      ExitCode.prerequisite,
    );
  }
  return raw;
}

interface Comment {
  readonly id: number;
  readonly body?: string | null;
}
interface Issue extends Comment {
  readonly number: number;
  readonly pull_request?: unknown;
}

/** The deployment states a workflow reports; `inactive` is set on teardown. */
export type DeploymentState = "success" | "failure" | "inactive";

export interface DeploymentRecord {
  /** The environment's name on GitHub, e.g. `pr-42`. */
  readonly environment: string;
  /** The commit that was deployed. */
  readonly ref: string;
  readonly state: "success" | "failure";
  /** The live URL, shown as "View deployment"; only with success. */
  readonly url?: string;
  /** The workflow run, linked from the deployment's status. */
  readonly logUrl?: string;
}

export class GitHubClient {
  constructor(
    private readonly token: string,
    private readonly repository: string,
    private readonly fetchFn: Fetch = globalFetch,
  ) {}

  private async call(method: string, url: string, body?: unknown): Promise<{ data: unknown; link: string | null }> {
    const response = await this.fetchFn(url.startsWith("https://") ? url : `${API}${url}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        Accept: "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "newsletter-ops",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) {
      const text = (await response.text()).slice(0, 300);
      throw new OpsError(`GitHub API ${method} ${url} answered ${response.status}: ${text}`, ExitCode.failed);
    }
    return { data: response.status === 204 ? undefined : await response.json(), link: response.headers.get("link") };
  }

  private async all<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let url: string | undefined = path;
    for (let page = 0; url !== undefined; page += 1) {
      if (page >= MAX_PAGES) throw new OpsError(`GitHub API: more than ${MAX_PAGES} pages at ${path}`, ExitCode.failed);
      const { data, link } = await this.call("GET", url);
      items.push(...(data as T[]));
      url = nextPageUrl(link);
    }
    return items;
  }

  /** Every open PR number. The reaper destroys stacks of PRs not in this list, so it must be complete. */
  async openPullRequests(): Promise<Set<number>> {
    const pulls = await this.all<{ number: number }>(`/repos/${this.repository}/pulls?state=open&per_page=100`);
    return new Set(pulls.map((pull) => pull.number));
  }

  /** Create or edit the PR's comment for `topic`. Returns its URL. */
  async upsertComment(pr: number, topic: string, body: string): Promise<string> {
    const comments = await this.all<Comment>(`/repos/${this.repository}/issues/${pr}/comments?per_page=100`);
    const existing = findMarked(comments, topic);
    const text = withMarker(topic, body);
    const { data } =
      existing === undefined
        ? await this.call("POST", `/repos/${this.repository}/issues/${pr}/comments`, { body: text })
        : await this.call("PATCH", `/repos/${this.repository}/issues/comments/${existing.id}`, { body: text });
    return (data as { html_url?: string }).html_url ?? "";
  }

  /**
   * Open or update the one open issue for `topic`; with `close`, close it (if one is open) with `body` as the
   * closing comment. Returns the issue URL, or "" when there was nothing to close.
   */
  async upsertIssue(
    topic: string,
    input: { title: string; body: string; labels?: string[]; close?: boolean },
  ): Promise<string> {
    const open = await this.all<Issue>(`/repos/${this.repository}/issues?state=open&per_page=100`);
    const existing = findMarked(
      open.filter((issue) => issue.pull_request === undefined),
      topic,
    );
    if (input.close === true) {
      if (existing === undefined) return "";
      await this.call("POST", `/repos/${this.repository}/issues/${existing.number}/comments`, { body: input.body });
      const { data } = await this.call("PATCH", `/repos/${this.repository}/issues/${existing.number}`, {
        state: "closed",
        state_reason: "completed",
      });
      return (data as { html_url?: string }).html_url ?? "";
    }
    const text = withMarker(topic, input.body);
    const { data } =
      existing === undefined
        ? await this.call("POST", `/repos/${this.repository}/issues`, {
            title: input.title,
            body: text,
            labels: input.labels ?? [],
          })
        : await this.call("PATCH", `/repos/${this.repository}/issues/${existing.number}`, {
            title: input.title,
            body: text,
          });
    return (data as { html_url?: string }).html_url ?? "";
  }

  /**
   * A deployment of `ref` to `environment` and its status, as the REST API's "Create a deployment" and "Create a
   * deployment status" define them (https://docs.github.com/en/rest/deployments/deployments,
   * https://docs.github.com/en/rest/deployments/statuses). `required_contexts: []`: the deployment is a record of
   * what already happened, so GitHub must not refuse it while the commit's checks are still running (it answers 409
   * otherwise), and `auto_merge: false` so that it never merges the default branch into the PR. Not transient and
   * not production: with `auto_inactive` (the default) GitHub then marks the environment's earlier successful
   * deployments inactive, so the PR shows only the live one. Returns the environment URL, or "" without one.
   */
  async recordDeployment(input: DeploymentRecord): Promise<string> {
    const { data } = await this.call("POST", `/repos/${this.repository}/deployments`, {
      ref: input.ref,
      environment: input.environment,
      description: `Review environment ${input.environment}`,
      auto_merge: false,
      required_contexts: [],
      transient_environment: false,
      production_environment: false,
    });
    const id = (data as { id?: unknown } | undefined)?.id;
    if (typeof id !== "number")
      throw new OpsError(`GitHub API: creating a deployment for ${input.environment} returned no id`, ExitCode.failed);
    const url = input.state === "success" && input.url !== undefined && input.url !== "" ? input.url : undefined;
    await this.call("POST", `/repos/${this.repository}/deployments/${id}/statuses`, {
      state: input.state,
      ...(url === undefined ? {} : { environment_url: url }),
      ...(input.logUrl === undefined ? {} : { log_url: input.logUrl }),
      auto_inactive: true,
    });
    return url ?? "";
  }

  /**
   * Marks every deployment of `environment` inactive: the environment is gone, and the PR's "View deployment"
   * button with it. Returns how many deployments there were (none when the environment never had one).
   */
  async deactivateDeployments(environment: string): Promise<number> {
    const deployments = await this.all<{ id: number }>(
      `/repos/${this.repository}/deployments?environment=${encodeURIComponent(environment)}&per_page=100`,
    );
    for (const deployment of deployments) {
      await this.call("POST", `/repos/${this.repository}/deployments/${deployment.id}/statuses`, { state: "inactive" });
    }
    return deployments.length;
  }
}
