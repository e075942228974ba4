// App Platform's apps, deployments, rollbacks and logs, as the deploy verification, the retry, `ops rollback` and
// `ops logs` use them. Every shape below is read from DigitalOcean's OpenAPI description (github.com/digitalocean/
// openapi, specification/resources/apps/), the file named next to it; the paths are those of
// specification/DigitalOcean-public.v2.yaml. The token needs app:read, and app:update to deploy or roll back.
import { DigitalOceanClient } from "./digitalocean";

/** models/apps_deployment_phase.yml. ACTIVE, SUPERSEDED, ERROR and CANCELED are final; the others move on. */
export const DEPLOYMENT_PHASES = [
  "UNKNOWN",
  "PENDING_BUILD",
  "BUILDING",
  "PENDING_DEPLOY",
  "DEPLOYING",
  "ACTIVE",
  "SUPERSEDED",
  "ERROR",
  "CANCELED",
] as const;
export type DeploymentPhase = (typeof DEPLOYMENT_PHASES)[number];
export const FINAL_PHASES: readonly DeploymentPhase[] = ["ACTIVE", "SUPERSEDED", "ERROR", "CANCELED"];

/** models/apps_deployment_progress_step.yml (status: apps_deployment_progress_step_status.yml; reason: ..._reason.yml). */
export interface DeploymentStep {
  readonly name?: string;
  readonly status?: "UNKNOWN" | "PENDING" | "RUNNING" | "ERROR" | "SUCCESS";
  readonly component_name?: string;
  readonly message_base?: string;
  readonly reason?: { readonly code?: string; readonly message?: string };
  readonly started_at?: string;
  readonly ended_at?: string;
  /** Child steps; the schema leaves them untyped (a Prism limitation, per its FIXME), the example nests steps. */
  readonly steps?: readonly DeploymentStep[];
}

/** The part of the app spec (models/app_spec.yml) ops reads: each component's image (apps_image_source_spec.yml). */
export interface SpecComponent {
  readonly name: string;
  readonly image?: { readonly registry_type?: string; readonly repository?: string; readonly digest?: string };
  readonly kind?: string;
}
export interface AppSpecView {
  readonly name?: string;
  readonly services?: readonly SpecComponent[];
  readonly jobs?: readonly SpecComponent[];
}

/** models/apps_deployment.yml */
export interface Deployment {
  readonly id: string;
  readonly spec?: AppSpecView;
  readonly phase?: DeploymentPhase;
  readonly phase_last_updated_at?: string;
  readonly created_at?: string;
  readonly updated_at?: string;
  readonly cause?: string;
  readonly cloned_from?: string;
  readonly progress?: {
    readonly success_steps?: number;
    readonly total_steps?: number;
    readonly error_steps?: number;
    readonly pending_steps?: number;
    readonly running_steps?: number;
    readonly steps?: readonly DeploymentStep[];
  };
}

/** models/app.yml: the deployments that matter here, and where the app answers. */
export interface App {
  readonly id: string;
  readonly spec: AppSpecView;
  readonly live_url?: string;
  readonly default_ingress?: string;
  readonly active_deployment?: Deployment;
  readonly in_progress_deployment?: Deployment;
  readonly pending_deployment?: Deployment;
  /** Set while a rollback is neither committed nor reverted (apps_create_rollback.yml). */
  readonly pinned_deployment?: Deployment;
}

/** responses/apps_validate_rollback.yml; the condition is models/app_rollback_validation_condition.yml. */
export interface RollbackValidation {
  readonly valid?: boolean;
  readonly error?: { readonly code?: string; readonly message?: string; readonly components?: readonly string[] };
  readonly warnings?: readonly { readonly code?: string; readonly message?: string }[];
}

/** The `type` query parameter of the logs endpoints (parameters.yml `log_type`), as `ops logs --type` takes it. */
export const LOG_TYPES = { build: "BUILD", deploy: "DEPLOY", run: "RUN" } as const;
export type LogType = (typeof LOG_TYPES)[keyof typeof LOG_TYPES];

/**
 * models/apps_get_logs_response.yml: `live_url` (real-time logs of an in-progress or active deployment, https:// or
 * wss://) and `historic_urls` (archived log files). The example in responses/examples.yml spells them `url` and
 * `historic_logs`; the schema is what godo and doctl read, so the schema wins.
 */
export interface LogsResponse {
  readonly live_url?: string;
  readonly historic_urls?: readonly string[];
}

/** What verification, retry, rollback and logs need from the API; AppPlatformClient is the real one. */
export interface AppPlatformApi {
  getApp(appId: string): Promise<App>;
  /** The first page, newest first (the order the provider relies on: resource_app.go WaitForAppDeployment). */
  listDeployments(appId: string): Promise<Deployment[]>;
  getDeployment(appId: string, deploymentId: string): Promise<Deployment>;
  /** A new deployment of the app's current spec; nothing is rebuilt (image sources have nothing to build). */
  createDeployment(appId: string): Promise<Deployment>;
  validateRollback(appId: string, deploymentId: string): Promise<RollbackValidation>;
  rollback(appId: string, deploymentId: string): Promise<Deployment>;
  commitRollback(appId: string): Promise<void>;
  revertRollback(appId: string): Promise<Deployment>;
  logs(
    appId: string,
    options: { component: string; type: LogType; deploymentId?: string },
  ): Promise<LogsResponse | undefined>;
  /** The text behind a log URL, at most `maxBytes` (its end), within `timeoutMs`. */
  logText(url: string, limits: { maxBytes: number; timeoutMs: number }): Promise<string>;
}

const DEPLOYMENTS_PER_PAGE = 20;

export class AppPlatformClient extends DigitalOceanClient implements AppPlatformApi {
  private app(appId: string): string {
    return `${this.api}/apps/${encodeURIComponent(appId)}`;
  }

  /** GET /v2/apps/{id} (apps_get.yml) → responses/apps_get.yml `{ app }`. */
  async getApp(appId: string): Promise<App> {
    return ((await this.request(this.app(appId))) as { app: App }).app;
  }

  /** GET /v2/apps/{app_id}/deployments (apps_list_deployments.yml) → responses/existing_deployments.yml. */
  async listDeployments(appId: string): Promise<Deployment[]> {
    const page = (await this.request(`${this.app(appId)}/deployments?page=1&per_page=${DEPLOYMENTS_PER_PAGE}`)) as {
      deployments?: Deployment[] | null;
    };
    return page.deployments ?? [];
  }

  /** GET /v2/apps/{app_id}/deployments/{deployment_id} (apps_get_deployment.yml) → `{ deployment }`. */
  async getDeployment(appId: string, deploymentId: string): Promise<Deployment> {
    const url = `${this.app(appId)}/deployments/${encodeURIComponent(deploymentId)}`;
    return ((await this.request(url)) as { deployment: Deployment }).deployment;
  }

  /**
   * POST /v2/apps/{app_id}/deployments (apps_create_deployment.yml) with models/apps_create_deployment_request.yml.
   * `force_build` is about rebuilding from source; an image source is pulled by digest either way.
   */
  async createDeployment(appId: string): Promise<Deployment> {
    const body = { force_build: false };
    return ((await this.request(`${this.app(appId)}/deployments`, "POST", false, body)) as { deployment: Deployment })
      .deployment;
  }

  /** POST /v2/apps/{app_id}/rollback/validate (apps_validate_rollback.yml). */
  async validateRollback(appId: string, deploymentId: string): Promise<RollbackValidation> {
    const body = { deployment_id: deploymentId };
    return (await this.request(`${this.app(appId)}/rollback/validate`, "POST", false, body)) as RollbackValidation;
  }

  /**
   * POST /v2/apps/{app_id}/rollback (apps_create_rollback.yml, models/apps_rollback_app_request.yml). `skip_pin:
   * false`: App Platform pins the app to the rollback and refuses new deployments until it is committed or reverted.
   */
  async rollback(appId: string, deploymentId: string): Promise<Deployment> {
    const body = { deployment_id: deploymentId, skip_pin: false };
    return ((await this.request(`${this.app(appId)}/rollback`, "POST", false, body)) as { deployment: Deployment })
      .deployment;
  }

  /** POST /v2/apps/{app_id}/rollback/commit (apps_commit_rollback.yml): keep the rollback, unpin. */
  async commitRollback(appId: string): Promise<void> {
    await this.request(`${this.app(appId)}/rollback/commit`, "POST", false, {});
  }

  /** POST /v2/apps/{app_id}/rollback/revert (apps_revert_rollback.yml): redeploy the spec from before, unpin. */
  async revertRollback(appId: string): Promise<Deployment> {
    return ((await this.request(`${this.app(appId)}/rollback/revert`, "POST", false, {})) as { deployment: Deployment })
      .deployment;
  }

  /**
   * GET /v2/apps/{app_id}/components/{component_name}/logs (apps_get_logs_active_deployment.yml), or with a
   * deployment GET /v2/apps/{app_id}/deployments/{deployment_id}/components/{component_name}/logs
   * (apps_get_logs.yml). `follow=false`: the URLs point at what exists now. A 404 (no such deployment or component,
   * or no logs yet) is "no logs".
   */
  async logs(
    appId: string,
    options: { component: string; type: LogType; deploymentId?: string },
  ): Promise<LogsResponse | undefined> {
    const deployment = options.deploymentId ? `/deployments/${encodeURIComponent(options.deploymentId)}` : "";
    const url =
      `${this.app(appId)}${deployment}/components/${encodeURIComponent(options.component)}/logs` +
      `?type=${options.type}&follow=false`;
    return (await this.request(url, "GET", true)) as LogsResponse | undefined;
  }

  /** Log files are plain text behind pre-signed URLs: no token is sent with them. */
  async logText(url: string, limits: { maxBytes: number; timeoutMs: number }): Promise<string> {
    if (!/^https?:\/\//.test(url)) return `(a ${url.split(":")[0]} stream, not read here: ${url})`;
    try {
      const response = await this.fetchFn(url, { method: "GET", signal: AbortSignal.timeout(limits.timeoutMs) });
      if (!response.ok) return `(the log at ${url} answered ${response.status})`;
      const text = await response.text();
      return text.length > limits.maxBytes ? `… (earlier lines cut)\n${text.slice(-limits.maxBytes)}` : text;
    } catch (error) {
      return `(the log at ${url} could not be read: ${error instanceof Error ? error.message : String(error)})`;
    }
  }
}
