// The few DigitalOcean API calls the reaper needs to find (and optionally delete) resources a failed teardown left
// behind, and that PR teardowns need to delete their image tags. Plain fetch against the public API
// (https://docs.digitalocean.com/reference/api/); the token needs the custom scopes app:read + database:read +
// project:read to list, and app:delete + database:delete + project:delete to delete; registry:read to list image
// tags and registry:delete to delete them (https://docs.digitalocean.com/reference/api/scopes/registry/delete:
// registry:delete requires registry:read). Shapes: digitalocean/openapi, specification/resources (apps/models/app.yml
// `project_id`; databases/models/database_cluster.yml `tags`, `project_id`; projects/models/project.yml).
import { ExitCode, OpsError } from "./errors";
import { type Fetch, globalFetch } from "./http";
import type { CloudProject, CloudResource } from "./leftovers";

/** The public API's base. DIGITALOCEAN_API_URL (cli.ts) points the CLI elsewhere, e.g. a fake on 127.0.0.1 in tests. */
export const DIGITALOCEAN_API = "https://api.digitalocean.com/v2";
/** The apps list accepts up to 200 per page (pydo `apps.list`, per_page max 200); so does the tags list. */
const PER_PAGE = 200;
/** Safety stop: 50 pages of 200 is far more apps than one account has; a loop past it is a bug. */
const MAX_PAGES = 50;

interface Page {
  readonly links?: { readonly pages?: { readonly next?: string } };
}
interface AppsPage extends Page {
  readonly apps?: readonly { id: string; spec?: { name?: string }; created_at?: string; project_id?: string }[];
}
interface DatabasesPage extends Page {
  readonly databases?:
    | readonly { id: string; name: string; created_at?: string; project_id?: string; tags?: string[] | null }[]
    | null;
}
interface ProjectsPage extends Page {
  readonly projects?: readonly { id: string; name: string; description?: string; created_at?: string }[] | null;
}
interface ProjectResourcesPage extends Page {
  readonly resources?: readonly { urn: string }[] | null;
}
interface TagsPage extends Page {
  readonly tags?: readonly { tag: string }[] | null;
}

interface DeploymentsPage extends Page {
  readonly deployments?:
    | readonly { id: string; phase?: string; cause?: string; cause_details?: { type?: string } }[]
    | null;
}

/** A deployment of an app that App Platform is still working on. */
export interface UnsettledDeployment {
  readonly id: string;
  readonly phase: string;
  /** `cause_details.type` (digitalocean/godo apps.gen.go, DeploymentCauseDetailsType), e.g. MANUAL. */
  readonly causeType: string | undefined;
}

/**
 * Phases before a deployment is done (github.com/digitalocean/openapi, specification/resources/apps/models/
 * apps_deployment_phase.yml); ACTIVE, SUPERSEDED, ERROR and CANCELED are final.
 */
const UNSETTLED_PHASES = new Set(["PENDING_BUILD", "BUILDING", "PENDING_DEPLOY", "DEPLOYING"]);

/** The deployment App Platform starts by itself when a cluster's trusted sources change (godo apps.gen.go). */
export const TRUSTED_SOURCES_CAUSE = "UPDATE_DATABASE_TRUSTED_SOURCES";

/**
 * What a check right after `pulumi up` should know about deployments still under way: above all one App Platform
 * started by itself after the trusted sources changed, which Pulumi never waited for. It runs the migration job again
 * (harmless: app/src/migrations.ts) and rolls the instances, so a check made now would judge a moving target.
 * Undefined when nothing is under way.
 */
export function describeUnsettledDeployments(
  appId: string,
  deployments: readonly UnsettledDeployment[],
): string | undefined {
  if (deployments.length === 0) return undefined;
  const list = deployments
    .map(
      (d) =>
        `${d.id} (${d.phase}${d.causeType === TRUSTED_SOURCES_CAUSE ? ", started by App Platform after the database's trusted sources changed" : d.causeType === undefined ? "" : `, cause ${d.causeType}`})`,
    )
    .join(", ");
  return (
    `App Platform is still deploying app ${appId}: ${list}. It runs the migration job again (safe: applied ` +
    "migrations are skipped) and replaces the instances; wait until it is ACTIVE before verifying " +
    `(\`doctl apps list-deployments ${appId}\`)`
  );
}

/** A repository in a DOCR registry: `registry.digitalocean.com/<registry>/<repository>`. */
export interface RegistryRepository {
  readonly registry: string;
  /** May contain `/` (`team/app`); the API wants it URL-encoded as one path segment. */
  readonly repository: string;
}

/**
 * `/v2/registries/<registry>/repositories/<repository>/tags`: "List All Container Registry Repository Tags" and, with
 * `/<tag>`, "Delete Container Registry Repository Tag" (DELETE answers 204), at
 * https://docs.digitalocean.com/reference/api/reference/container-registries/ (operations
 * registries_list_repositoryTags, registries_delete_repositoryTag). The older `/v2/registry/...` paths are deprecated.
 */
function tagsPath(api: string, { registry, repository }: RegistryRepository): string {
  return `${api}/registries/${encodeURIComponent(registry)}/repositories/${encodeURIComponent(repository)}/tags`;
}

/**
 * The API's error body, `{ id, message, request_id }` (digitalocean/openapi specification/shared/models/error.yml:
 * `id` and `message` required, `request_id` on some endpoints), as one line; any other body, cut short.
 */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { id?: unknown; message?: unknown; request_id?: unknown };
    if (typeof parsed.id === "string" && typeof parsed.message === "string") {
      const request = typeof parsed.request_id === "string" ? ` (request ${parsed.request_id})` : "";
      return `${parsed.id}: ${parsed.message}${request}`;
    }
  } catch {
    // not JSON: shown as text below
  }
  return body.slice(0, 300);
}

export class DigitalOceanClient {
  constructor(
    private readonly token: string,
    protected readonly fetchFn: Fetch = globalFetch,
    protected readonly api: string = DIGITALOCEAN_API,
  ) {}

  /**
   * One call; the body, when given, is sent as JSON. `missingIsEmpty`: a 404 answers undefined (a DELETE's 404
   * always does: already gone, the goal is reached).
   */
  protected async request(
    url: string,
    method = "GET",
    missingIsEmpty = method === "DELETE",
    body?: unknown,
  ): Promise<unknown> {
    const response = await this.fetchFn(url, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (missingIsEmpty && response.status === 404) return undefined;
    if (!response.ok) {
      throw new OpsError(
        `DigitalOcean API ${method} ${url.replace(this.api, "")} answered ${response.status}: ${errorText(await response.text())}`,
        ExitCode.failed,
      );
    }
    const text = await response.text();
    return response.status === 204 || text === "" ? undefined : JSON.parse(text);
  }

  /** Every page of a list endpoint, following `links.pages.next`. */
  private async pages<T extends Page>(first: string, missingIsEmpty = false): Promise<T[]> {
    const pages: T[] = [];
    let url: string | undefined = first;
    while (url !== undefined) {
      if (pages.length >= MAX_PAGES)
        throw new OpsError(`DigitalOcean API: more than ${MAX_PAGES} pages at ${first}`, ExitCode.failed);
      const page = ((await this.request(url, "GET", missingIsEmpty)) ?? {}) as T;
      pages.push(page);
      url = page.links?.pages?.next;
    }
    return pages;
  }

  async listApps(): Promise<CloudResource[]> {
    const pages = await this.pages<AppsPage>(`${this.api}/apps?page=1&per_page=${PER_PAGE}`);
    return pages.flatMap((page) =>
      (page.apps ?? []).map((app) => ({
        kind: "app" as const,
        id: app.id,
        name: app.spec?.name ?? "",
        createdAt: app.created_at,
        ...(app.project_id ? { projectId: app.project_id } : {}),
      })),
    );
  }

  async listDatabases(): Promise<CloudResource[]> {
    const pages = await this.pages<DatabasesPage>(`${this.api}/databases?page=1&per_page=${PER_PAGE}`);
    return pages.flatMap((page) =>
      (page.databases ?? []).map((db) => ({
        kind: "database" as const,
        id: db.id,
        name: db.name,
        createdAt: db.created_at,
        ...(db.project_id ? { projectId: db.project_id } : {}),
        ...(db.tags && db.tags.length > 0 ? { tags: [...db.tags] } : {}),
      })),
    );
  }

  /**
   * The app's deployments that haven't finished, from the newest page of "List App Deployments"
   * (`GET /v2/apps/{app_id}/deployments`, operation apps_list_deployments in github.com/digitalocean/openapi).
   */
  async unsettledDeployments(appId: string): Promise<UnsettledDeployment[]> {
    const page = ((await this.request(
      `${this.api}/apps/${encodeURIComponent(appId)}/deployments?page=1&per_page=20`,
    )) ?? {}) as DeploymentsPage;
    return (page.deployments ?? [])
      .filter((d) => d.phase !== undefined && UNSETTLED_PHASES.has(d.phase))
      .map((d) => ({ id: d.id, phase: d.phase ?? "", causeType: d.cause_details?.type }));
  }

  /**
   * Every project of the account. Those whose description starts with a stack identity (`pulumi:…`, see
   * infra/project.ts) also get the number of resources still assigned to them (`GET /v2/projects/{id}/resources`),
   * so that an empty one can be deleted; the others are never looked into.
   */
  async listProjects(): Promise<CloudProject[]> {
    const pages = await this.pages<ProjectsPage>(`${this.api}/projects?page=1&per_page=${PER_PAGE}`);
    const projects: CloudProject[] = [];
    for (const project of pages.flatMap((page) => page.projects ?? [])) {
      const description = project.description ?? "";
      const listed = { id: project.id, name: project.name, description, createdAt: project.created_at };
      if (!description.startsWith("pulumi:")) {
        projects.push(listed);
        continue;
      }
      const resources = await this.pages<ProjectResourcesPage>(
        `${this.api}/projects/${encodeURIComponent(project.id)}/resources?page=1&per_page=${PER_PAGE}`,
      );
      projects.push({ ...listed, resourceCount: resources.reduce((n, page) => n + (page.resources?.length ?? 0), 0) });
    }
    return projects;
  }

  /** The names of every tag in the repository; none when the repository does not exist (404). */
  async listRepositoryTags(repository: RegistryRepository): Promise<string[]> {
    const pages = await this.pages<TagsPage>(`${tagsPath(this.api, repository)}?page=1&per_page=${PER_PAGE}`, true);
    return pages.flatMap((page) => (page.tags ?? []).map((tag) => tag.tag));
  }

  /**
   * Deletes the tag only, never the manifest: the same image may carry another stack's tag. The storage comes back
   * with the registry's next garbage collection that includes untagged manifests
   * (`doctl registry garbage-collection start --include-untagged-manifests`).
   */
  async deleteRepositoryTag(repository: RegistryRepository, tag: string): Promise<void> {
    await this.request(`${tagsPath(this.api, repository)}/${encodeURIComponent(tag)}`, "DELETE");
  }

  async delete(resource: CloudResource): Promise<void> {
    const path = { app: "apps", database: "databases", project: "projects" }[resource.kind];
    await this.request(`${this.api}/${path}/${encodeURIComponent(resource.id)}`, "DELETE");
  }
}
