// A fake DigitalOcean API on 127.0.0.1: the one stand-in for App Platform's apps, deployments, rollbacks and logs that
// the ops tests share, so that the real client (ops/app-platform.ts) sends real HTTP requests and parses real JSON.
// Every route and body is shaped as github.com/digitalocean/openapi describes it (specification/
// DigitalOcean-public.v2.yaml for the paths, specification/resources/apps/ for the bodies; files named per route),
// and it is as strict: a bearer token is required (401), unknown apps and deployments are 404, errors are
// `{ id, message, request_id }` (specification/shared/models/error.yml).
//
// Deployments move through their phases one step per read (GET of the app or the deployment), following a script:
// a normal rollout, a PRE_DEPLOY job that fails, or a phase that never ends. The app's live URL and its log files are
// served here too, so the health check and the log download also go over real HTTP.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Phase =
  | "PENDING_BUILD"
  | "BUILDING"
  | "PENDING_DEPLOY"
  | "DEPLOYING"
  | "ACTIVE"
  | "SUPERSEDED"
  | "ERROR"
  | "CANCELED";

/** How a deployment goes: the phases it passes through (one per read), and how it ends. */
export interface DeploymentScript {
  readonly phases: readonly Phase[];
  /** For a script ending in ERROR: the component whose step failed, and App Platform's reason. */
  readonly failure?: { readonly component: string; readonly message: string };
}

export const ROLLOUT: DeploymentScript = { phases: ["PENDING_DEPLOY", "DEPLOYING", "ACTIVE"] };
export const FAILED_PRE_DEPLOY: DeploymentScript = {
  phases: ["PENDING_DEPLOY", "DEPLOYING", "ERROR"],
  failure: { component: "migrate", message: "Your job exited with a non-zero code" },
};
/** Never leaves DEPLOYING: the web service's health checks never pass. */
export const STUCK_DEPLOYING: DeploymentScript = { phases: ["PENDING_DEPLOY", "DEPLOYING"] };

type Health = "ok" | "failing" | "silent";

interface FakeDeployment {
  id: string;
  spec: Spec;
  script: DeploymentScript;
  step: number;
  created_at: string;
  cause: string;
  cloned_from?: string;
}

interface Spec {
  name: string;
  services: { name: string; image: { registry_type: string; repository: string; digest: string } }[];
  jobs: { name: string; kind: string; image: { registry_type: string; repository: string; digest: string } }[];
}

interface FakeApp {
  id: string;
  created_at: string;
  spec: Spec;
  deployments: FakeDeployment[];
  activeId?: string;
  pinnedId?: string;
  /** The spec before a rollback, for a revert. */
  specBeforeRollback?: Spec;
  health: Health;
  /** The next deployment ops creates follows this script (then ROLLOUT). */
  nextScripts: DeploymentScript[];
}

const digestSpec = (name: string, digest: string): Spec => {
  const image = { registry_type: "DOCR", repository: "newsletter", digest };
  return { name, services: [{ name: "web", image }], jobs: [{ name: "migrate", kind: "PRE_DEPLOY", image }] };
};

export class FakeDigitalOcean {
  readonly token = "dop_v1_fake";
  /** Every API request, as `METHOD /v2/path?query`. */
  readonly requests: string[] = [];
  /** Every JSON request body, by `METHOD /v2/path`. */
  readonly bodies: { route: string; body: unknown }[] = [];
  /** Log lines by `<deploymentId>/<component>/<TYPE>`. */
  readonly logLines = new Map<string, string>();
  private readonly apps = new Map<string, FakeApp>();
  private clock = Date.parse("2026-11-25T12:00:00Z");

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  /** The API base to give the client: `http://127.0.0.1:<port>/v2`. */
  get api(): string {
    return `${this.origin}/v2`;
  }

  static async start(): Promise<FakeDigitalOcean> {
    let fake: FakeDigitalOcean | undefined;
    const server = createServer((req, res) => {
      fake?.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: "server_error", message: String(error) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeDigitalOcean(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Managed database clusters, for the reaper's listing (databases_list_clusters.yml). */
  readonly databases: {
    id: string;
    name: string;
    engine: string;
    created_at: string;
    project_id?: string;
    tags?: string[] | null;
  }[] = [];
  /**
   * Projects (projects_list.yml → responses/projects_list.yml; models/project.yml) and the URNs assigned to each
   * (projects_list_resources.yml → `{ resources: [{ urn, … }] }`). Apps take their project from `projectOf`.
   */
  readonly projects: { id: string; name: string; description: string; created_at: string }[] = [];
  readonly projectResources = new Map<string, string[]>();
  /** The project each app was created in (apps/models/app.yml `project_id`). */
  readonly projectOf = new Map<string, string>();
  /** Image tags by `<registry>/<repository>` (registries_list_repositoryTags.yml). */
  readonly tags = new Map<string, string[]>();
  /** Tags whose deletion is refused, as for a token without registry:delete. */
  readonly refuseTagDeletion = new Set<string>();
  /** Page size cap of the list endpoints (pydo `apps.list`: per_page max 200). */
  static readonly MAX_PER_PAGE = 200;

  /** An app whose first deployment of `digest` is ACTIVE and whose live URL answers. */
  addApp(id: string, digest: string, name = "newsletter-production", createdAt = "2026-11-01T00:00:00Z"): void {
    const app: FakeApp = {
      id,
      created_at: createdAt,
      spec: digestSpec(name, digest),
      deployments: [],
      health: "ok",
      nextScripts: [],
    };
    this.apps.set(id, app);
    const first = this.newDeployment(app, app.spec, ROLLOUT, "initial deploy");
    this.settle(app, first);
  }

  /**
   * What the provider's update does (terraform-provider-digitalocean resource_app.go: Apps.Update, then wait): the
   * app takes the new spec at once, and a deployment of it starts, following `script`.
   */
  updateSpec(id: string, digest: string, script: DeploymentScript = ROLLOUT, settle = true): string {
    const app = this.app(id);
    app.spec = digestSpec(app.spec.name, digest);
    const deployment = this.newDeployment(app, app.spec, script, "app spec updated");
    if (settle) this.settle(app, deployment);
    return deployment.id;
  }

  /** The next deployment created through the API (a retry, a rollback, a revert) follows `script`. */
  scriptNext(id: string, script: DeploymentScript): void {
    this.app(id).nextScripts.push(script);
  }

  setHealth(id: string, health: Health): void {
    this.app(id).health = health;
  }

  deploymentIds(id: string): string[] {
    return this.app(id).deployments.map((d) => d.id);
  }

  phaseOf(id: string, deploymentId: string): Phase {
    const app = this.app(id);
    const d = app.deployments.find((x) => x.id === deploymentId);
    if (d === undefined) throw new Error(`fake: no deployment ${deploymentId}`);
    return this.phase(app, d);
  }

  /** The image digest of the app's current spec (what the last update, rollback or revert set). */
  specDigest(id: string): string | undefined {
    return this.app(id).spec.services[0]?.image.digest;
  }

  activeDigest(id: string): string | undefined {
    const app = this.app(id);
    return app.deployments.find((d) => d.id === app.activeId)?.spec.services[0]?.image.digest;
  }

  isPinned(id: string): boolean {
    return this.app(id).pinnedId !== undefined;
  }

  // ---- state ----------------------------------------------------------------------------------------------------

  private app(id: string): FakeApp {
    const app = this.apps.get(id);
    if (app === undefined) throw new Error(`fake: no app ${id}`);
    return app;
  }

  private newDeployment(app: FakeApp, spec: Spec, script: DeploymentScript, cause: string): FakeDeployment {
    this.clock += 60_000;
    const deployment: FakeDeployment = {
      id: randomUUID(),
      spec: structuredClone(spec),
      script,
      step: 0,
      created_at: new Date(this.clock).toISOString(),
      cause,
    };
    app.deployments.unshift(deployment); // newest first, as the list endpoint answers
    return deployment;
  }

  /** Run a deployment's script to its end at once (the provider waited for it). */
  private settle(app: FakeApp, deployment: FakeDeployment): void {
    while (this.advance(app, deployment)) {
      // next phase
    }
  }

  /** One step of the script; false once there is none left. A deployment that reaches ACTIVE supersedes the last. */
  private advance(app: FakeApp, deployment: FakeDeployment): boolean {
    if (deployment.step >= deployment.script.phases.length - 1) return false;
    deployment.step += 1;
    if (deployment.script.phases[deployment.step] === "ACTIVE") app.activeId = deployment.id;
    return true;
  }

  private phase(app: FakeApp, deployment: FakeDeployment): Phase {
    const phase = deployment.script.phases[deployment.step] ?? "PENDING_BUILD";
    return phase === "ACTIVE" && app.activeId !== deployment.id ? "SUPERSEDED" : phase;
  }

  private inProgress(app: FakeApp): FakeDeployment | undefined {
    return app.deployments.find((d) => !["ACTIVE", "SUPERSEDED", "ERROR", "CANCELED"].includes(this.phase(app, d)));
  }

  /**
   * models/apps_deployment.yml, with `progress.steps` nested as responses/examples.yml nests them (deploy →
   * components → one step per component). The example shows services only; the job's step here follows the same
   * pattern, and ops reads only `status`, `component_name`, `message_base` and `reason`, which every step has.
   */
  private deploymentJson(app: FakeApp, d: FakeDeployment): Record<string, unknown> {
    const phase = this.phase(app, d);
    const failed = phase === "ERROR" ? d.script.failure : undefined;
    const running = phase !== "ERROR" && !["ACTIVE", "SUPERSEDED", "CANCELED"].includes(phase);
    // While DEPLOYING, the PRE_DEPLOY job has run and the service is rolling out (what a stuck rollout looks like).
    const status = (component: string) => {
      if (failed) return failed.component === component ? "ERROR" : "SUCCESS";
      if (!running) return "SUCCESS";
      if (phase !== "DEPLOYING") return "PENDING";
      return component === "web" ? "RUNNING" : "SUCCESS";
    };
    const componentStep = (component: string, messageBase: string) => ({
      name: component,
      status: status(component),
      component_name: component,
      message_base: messageBase,
      ...(failed?.component === component ? { reason: { code: "DeployJobFailed", message: failed.message } } : {}),
    });
    const steps = [
      { name: "build", status: "SUCCESS", steps: [{ name: "initialize", status: "SUCCESS" }] },
      {
        name: "deploy",
        status: failed ? "ERROR" : running ? "RUNNING" : "SUCCESS",
        steps: [
          { name: "initialize", status: "SUCCESS" },
          {
            name: "components",
            status: failed ? "ERROR" : running ? "RUNNING" : "SUCCESS",
            steps: [componentStep("migrate", "Running pre-deploy job"), componentStep("web", "Deploying service")],
          },
        ],
      },
    ];
    return {
      id: d.id,
      spec: d.spec,
      services: [{ name: "web", source_commit_hash: "" }],
      jobs: [{ name: "migrate", source_commit_hash: "" }],
      phase,
      phase_last_updated_at: d.created_at,
      created_at: d.created_at,
      updated_at: d.created_at,
      cause: d.cause,
      ...(d.cloned_from ? { cloned_from: d.cloned_from } : {}),
      progress: {
        success_steps: failed ? 4 : running ? 2 : 6,
        error_steps: failed ? 1 : 0,
        total_steps: 6,
        steps,
      },
      tier_slug: "basic",
    };
  }

  /** models/app.yml */
  private appJson(app: FakeApp): Record<string, unknown> {
    const byId = (id: string | undefined) => app.deployments.find((d) => d.id === id);
    const active = byId(app.activeId);
    const progress = this.inProgress(app);
    const pinned = byId(app.pinnedId);
    return {
      id: app.id,
      spec: app.spec,
      default_ingress: `${this.origin}/live/${app.id}`,
      live_url: `${this.origin}/live/${app.id}`,
      live_url_base: `${this.origin}/live/${app.id}`,
      created_at: app.created_at,
      ...(this.projectOf.has(app.id) ? { project_id: this.projectOf.get(app.id) } : {}),
      ...(active ? { active_deployment: this.deploymentJson(app, active) } : {}),
      ...(progress ? { in_progress_deployment: this.deploymentJson(app, progress) } : {}),
      ...(pinned ? { pinned_deployment: this.deploymentJson(app, pinned) } : {}),
      tier_slug: "basic",
    };
  }

  // ---- HTTP -----------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "ratelimit-limit": "5000" });
      res.end(body === undefined ? "" : JSON.stringify(body));
    };
    // specification/shared/models/error.yml
    const error = (status: number, id: string, message: string) =>
      json(status, { id, message, request_id: randomUUID() });

    // The app itself and its log files: no token, as a browser or a pre-signed URL would reach them.
    const live = url.pathname.match(/^\/live\/([^/]+)\/health_check$/);
    if (live) {
      const health = this.apps.get(live[1] ?? "")?.health ?? "failing";
      if (health === "silent") return; // accepts the connection, never answers
      res.writeHead(health === "ok" ? 200 : 503);
      res.end();
      return;
    }
    const file = url.pathname.match(/^\/logs\/(.+)$/);
    if (file) {
      const text = this.logLines.get(decodeURIComponent(file[1] ?? ""));
      res.writeHead(text === undefined ? 404 : 200, { "content-type": "text/plain" });
      res.end(text ?? "");
      return;
    }

    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return error(401, "unauthorized", "Unable to authenticate you.");
    }
    const raw = await new Promise<string>((resolve) => {
      let data = "";
      req.on("data", (chunk) => {
        data += chunk;
      });
      req.on("end", () => resolve(data));
    });
    const body = raw === "" ? undefined : (JSON.parse(raw) as Record<string, unknown>);
    if (body !== undefined) this.bodies.push({ route: `${req.method} ${url.pathname}`, body });

    const notFound = () => error(404, "not_found", "The resource you requested could not be found.");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent); // v2, apps, {id}, ...
    if (parts[0] !== "v2") return notFound();
    if (this.inventory(req.method ?? "GET", parts.slice(1), url, json, error, notFound)) return;
    if (parts[1] !== "apps" || parts[2] === undefined) return notFound();
    const app = this.apps.get(parts[2]);
    if (app === undefined) return notFound();
    const rest = parts.slice(3);
    const route = `${req.method} ${rest.map((p, i) => (i % 2 === 1 && rest[i - 1] !== "rollback" ? "{}" : p)).join("/")}`;
    const deployment = (id: string | undefined) => app.deployments.find((d) => d.id === id);
    const tick = () => {
      const progress = this.inProgress(app);
      if (progress) this.advance(app, progress);
    };

    switch (route) {
      // GET /v2/apps/{id} (apps_get.yml) → responses/apps_get.yml
      case "GET ": {
        tick();
        return json(200, { app: this.appJson(app) });
      }
      // GET /v2/apps/{app_id}/deployments (apps_list_deployments.yml) → responses/existing_deployments.yml
      case "GET deployments": {
        const perPage = Number(url.searchParams.get("per_page") ?? "20");
        const page = app.deployments.slice(0, perPage).map((d) => this.deploymentJson(app, d));
        return json(200, { deployments: page, links: { pages: {} }, meta: { total: app.deployments.length } });
      }
      // POST /v2/apps/{app_id}/deployments (apps_create_deployment.yml) → responses/new_app_deployment.yml
      case "POST deployments": {
        if (app.pinnedId !== undefined) {
          // The pin refuses new deployments (apps_create_rollback.yml); the exact error is not documented.
          return error(400, "bad_request", "app is pinned to a rollback deployment");
        }
        const created = this.newDeployment(app, app.spec, app.nextScripts.shift() ?? ROLLOUT, "manual");
        return json(200, { deployment: this.deploymentJson(app, created) });
      }
      // GET /v2/apps/{app_id}/deployments/{deployment_id} (apps_get_deployment.yml) → responses/list_deployment.yml
      case "GET deployments/{}": {
        const d = deployment(rest[1]);
        if (d === undefined) return notFound();
        if (d === this.inProgress(app)) this.advance(app, d);
        return json(200, { deployment: this.deploymentJson(app, d) });
      }
      // GET .../components/{component_name}/logs (apps_get_logs_active_deployment.yml) and
      // GET .../deployments/{deployment_id}/components/{component_name}/logs (apps_get_logs.yml)
      // → models/apps_get_logs_response.yml. `type` is required (parameters.yml log_type).
      case "GET components/{}/logs":
      case "GET deployments/{}/components/{}/logs": {
        const type = url.searchParams.get("type");
        if (type === null) return error(400, "bad_request", "type is required");
        const d = rest[0] === "deployments" ? deployment(rest[1]) : deployment(app.activeId);
        const component = rest[0] === "deployments" ? rest[3] : rest[1];
        if (d === undefined || component === undefined) return notFound();
        // Logs set for `*` belong to whichever deployment is asked about (ids of retries are not known in advance).
        const exact = `${d.id}/${component}/${type}`;
        const key = this.logLines.has(exact) ? exact : `*/${component}/${type}`;
        if (!this.logLines.has(key)) return json(200, { historic_urls: [] });
        return json(200, {
          live_url: `wss://logs.invalid/${key}`,
          historic_urls: [`${this.origin}/logs/${encodeURIComponent(key)}`],
        });
      }
      // POST /v2/apps/{app_id}/rollback/validate (apps_validate_rollback.yml) → responses/apps_validate_rollback.yml
      case "POST rollback/validate": {
        const d = deployment(String(body?.deployment_id));
        if (d === undefined) return notFound();
        if (app.pinnedId !== undefined) {
          return json(200, {
            valid: false,
            error: { code: "app_pinned", message: "there is already a rollback in progress" },
          });
        }
        const phase = this.phase(app, d);
        if (phase !== "SUPERSEDED" && phase !== "ACTIVE") {
          return json(200, {
            valid: false,
            error: { code: "incompatible_result", message: `deployment result "failed" is unsuitable for rollback` },
          });
        }
        return json(200, { valid: true });
      }
      // POST /v2/apps/{app_id}/rollback (apps_create_rollback.yml, models/apps_rollback_app_request.yml)
      case "POST rollback": {
        const d = deployment(String(body?.deployment_id));
        if (d === undefined) return notFound();
        app.specBeforeRollback = app.spec;
        app.spec = structuredClone(d.spec);
        const created = this.newDeployment(app, d.spec, app.nextScripts.shift() ?? ROLLOUT, "manual rollback");
        created.cloned_from = d.id;
        if (body?.skip_pin !== true) app.pinnedId = created.id;
        return json(200, { deployment: this.deploymentJson(app, created) });
      }
      // POST /v2/apps/{app_id}/rollback/commit (apps_commit_rollback.yml): 200, no content
      case "POST rollback/commit": {
        app.pinnedId = undefined;
        app.specBeforeRollback = undefined;
        return json(200, undefined);
      }
      // POST /v2/apps/{app_id}/rollback/revert (apps_revert_rollback.yml) → responses/new_app_deployment.yml
      case "POST rollback/revert": {
        const spec = app.specBeforeRollback ?? app.spec;
        app.pinnedId = undefined;
        app.spec = spec;
        const created = this.newDeployment(app, spec, app.nextScripts.shift() ?? ROLLOUT, "rollback reverted");
        return json(200, { deployment: this.deploymentJson(app, created) });
      }
      // DELETE /v2/apps/{id} (apps_delete.yml) → responses/delete_app.yml `{ id }`
      case "DELETE ": {
        this.apps.delete(app.id);
        return json(200, { id: app.id });
      }
      default:
        return notFound();
    }
  }

  /** One page of a list, with `links.pages.next` while more follow and `meta.total` (shared/pages.yml, meta.yml). */
  private page<T>(url: URL, items: readonly T[]): { items: T[]; links: unknown; meta: { total: number } } {
    const perPage = Math.min(Number(url.searchParams.get("per_page") ?? "20"), FakeDigitalOcean.MAX_PER_PAGE);
    const page = Number(url.searchParams.get("page") ?? "1");
    const next = new URL(url);
    next.searchParams.set("page", String(page + 1));
    const more = page * perPage < items.length;
    return {
      items: items.slice((page - 1) * perPage, page * perPage),
      links: { pages: more ? { next: next.toString() } : {} },
      meta: { total: items.length },
    };
  }

  /** The listings and deletions the reaper and PR teardowns use; false for any other route. */
  private inventory(
    method: string,
    path: string[],
    url: URL,
    json: (status: number, body: unknown) => void,
    error: (status: number, id: string, message: string) => void,
    notFound: () => void,
  ): boolean {
    const [kind, id, ...rest] = path;
    // GET /v2/apps (apps_list.yml) → responses/list_apps.yml `{ apps, links, meta }`
    if (method === "GET" && kind === "apps" && id === undefined) {
      const apps = [...this.apps.values()].map((a) => this.appJson(a));
      const { items, links, meta } = this.page(url, apps);
      json(200, { apps: items, links, meta });
      return true;
    }
    // GET /v2/databases (databases_list_clusters.yml) → responses/database_clusters.yml `{ databases }`;
    // DELETE /v2/databases/{database_cluster_uuid} (databases_destroy_cluster.yml) → 204
    if (kind === "databases") {
      if (method === "GET" && id === undefined) {
        json(200, { databases: this.databases });
        return true;
      }
      if (method === "DELETE" && id !== undefined) {
        const index = this.databases.findIndex((d) => d.id === id);
        if (index === -1) {
          notFound();
          return true;
        }
        this.databases.splice(index, 1);
        json(204, undefined);
        return true;
      }
    }
    // GET /v2/projects (projects_list.yml) → `{ projects, links, meta }`; GET /v2/projects/{project_id}/resources
    // (projects_list_resources.yml) → `{ resources, links, meta }`; DELETE /v2/projects/{project_id}
    // (projects_delete.yml) → 204, or 412 while resources are assigned ("cannot delete a project with resources",
    // as terraform-provider-digitalocean's resourceDigitalOceanProjectDelete expects).
    if (kind === "projects") {
      if (method === "GET" && id === undefined) {
        const { items, links, meta } = this.page(url, this.projects);
        json(200, { projects: items, links, meta });
        return true;
      }
      const project = this.projects.find((p) => p.id === id);
      if (project === undefined) {
        notFound();
        return true;
      }
      const urns = this.projectResources.get(project.id) ?? [];
      if (method === "GET" && rest[0] === "resources") {
        const resources = urns.map((urn) => ({ urn, assigned_at: project.created_at, status: "ok" }));
        const { items, links, meta } = this.page(url, resources);
        json(200, { resources: items, links, meta });
        return true;
      }
      if (method === "DELETE" && rest[0] === undefined) {
        if (urns.length > 0) {
          error(412, "precondition_failed", "cannot delete a project with resources");
          return true;
        }
        this.projects.splice(this.projects.indexOf(project), 1);
        json(204, undefined);
        return true;
      }
    }
    // GET /v2/registries/{registry_name}/repositories/{repository_name}/tags (registries_list_repositoryTags.yml)
    // → responses/repository_tags.yml; DELETE .../tags/{repository_tag} (registries_delete_repositoryTag.yml) → 204
    if (kind === "registries" && id !== undefined && rest[0] === "repositories" && rest[2] === "tags") {
      const key = `${id}/${rest[1]}`;
      const tags = this.tags.get(key);
      if (tags === undefined) {
        notFound();
        return true;
      }
      if (method === "GET" && rest[3] === undefined) {
        const all = tags.map((tag) => ({
          registry_name: id,
          repository: rest[1],
          tag,
          updated_at: "2026-11-01T00:00:00Z",
        }));
        const { items, links, meta } = this.page(url, all);
        json(200, { tags: items, links, meta });
        return true;
      }
      if (method === "DELETE" && rest[3] !== undefined) {
        if (this.refuseTagDeletion.has(rest[3])) {
          error(403, "forbidden", "You are not authorized to perform this operation");
          return true;
        }
        if (!tags.includes(rest[3])) {
          notFound();
          return true;
        }
        this.tags.set(
          key,
          tags.filter((t) => t !== rest[3]),
        );
        json(204, undefined);
        return true;
      }
    }
    return false;
  }
}
