// After `up` of a DigitalOcean stack: is the new version really serving? `pulumi up` reports success once the provider
// saw a deployment go ACTIVE, and on a re-run after a failure it sends nothing at all: the provider redeploys only
// when the spec changed (terraform-provider-digitalocean digitalocean/app/resource_app.go,
// resourceDigitalOceanAppUpdate: `if d.HasChange("spec") { ... Apps.Update ... WaitForAppDeployment }`, otherwise it
// only reads). A failed deployment leaves the new spec with App Platform (the update calls Apps.Update before it
// waits), so once Pulumi records it too, the next run has no change to send. So this module asks App Platform itself:
//   1. which deployment carries the stack's image digest; when the active one does not and none is in progress, the
//      last one failed, and it creates a deployment of the app's (already updated) spec: the retry;
//   2. whether that deployment reaches ACTIVE within a bound, else which phase and which component stopped it;
//   3. whether the live URL answers 200 on the health check within a bound.
// On failure it fetches the PRE_DEPLOY job's and the service's logs. Every wait is bounded.
import { COMPONENTS } from "../infra/app-spec";
import { HEALTH_CHECK_PATH } from "../infra/image";
import {
  type AppPlatformApi,
  type Deployment,
  type DeploymentStep,
  FINAL_PHASES,
  LOG_TYPES,
  type LogType,
} from "./app-platform";
import type { Fetch } from "./http";

export interface VerifyLimits {
  /** How long a deployment may take to reach a final phase (the provider polls every 10 s: resource_app.go). */
  readonly deployTimeoutMs: number;
  /** How long the live URL may take to answer 200 once the deployment is ACTIVE. */
  readonly healthTimeoutMs: number;
  readonly pollMs: number;
  /** One health-check request. */
  readonly requestTimeoutMs: number;
  /** The end of each log kept for the report, and how long one log download may take. */
  readonly logBytes: number;
  readonly logTimeoutMs: number;
}

export const DEFAULT_LIMITS: VerifyLimits = Object.freeze({
  deployTimeoutMs: 30 * 60_000,
  healthTimeoutMs: 3 * 60_000,
  pollMs: 10_000,
  requestTimeoutMs: 10_000,
  logBytes: 20_000,
  logTimeoutMs: 15_000,
});

export interface VerifyDeps {
  readonly api: AppPlatformApi;
  /** For the health check: a plain HTTP GET of the live URL. */
  readonly fetch: Fetch;
  sleep(ms: number): Promise<void>;
  /** Milliseconds, for the deadlines. */
  now(): number;
  /** Progress, one line at a time. */
  log(line: string): void;
}

export interface ComponentLog {
  readonly component: string;
  readonly type: LogType;
  readonly text: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly stack: string;
  readonly digest: string;
  /** The deployment judged (the one carrying the digest), when there is one. */
  readonly deployment?: { readonly id: string; readonly phase: string };
  /** Whether ops created a deployment because the active one was not the spec's. */
  readonly redeployed: boolean;
  readonly url?: string;
  /** Each check in order, with its result: what the job summary and stdout show. */
  readonly checks: readonly { readonly check: string; readonly ok: boolean; readonly detail: string }[];
  /** On failure: the phase the deployment ended or stuck in, and the component that stopped it. */
  readonly failure?: { readonly phase?: string; readonly component?: string; readonly reason: string };
  readonly logs: readonly ComponentLog[];
}

export interface VerifyTarget {
  readonly stack: string;
  readonly appId: string;
  /** The image digest the stack's spec carries (stack output `imageDigest`). */
  readonly digest: string;
  /** Where the app answers when App Platform reports no live URL yet (stack output `url`). */
  readonly url?: string;
  /** Create a deployment when the active one is not the spec's (after `up`); false just reports. */
  readonly retry: boolean;
}

/** The image digest the deployment's (or app's) spec gives the service, if any. */
export function serviceDigest(spec: Deployment["spec"]): string | undefined {
  return spec?.services?.find((s) => s.name === COMPONENTS.service)?.image?.digest;
}

const carries = (deployment: Deployment | undefined, digest: string): deployment is Deployment =>
  deployment !== undefined && serviceDigest(deployment.spec) === digest;

/**
 * The step that stopped a deployment: the deepest one in ERROR, or (for a deployment that never finished) the deepest
 * one still RUNNING, with the component it belongs to (its own `component_name` or its nearest ancestor's). The step
 * tree is models/apps_deployment_progress_step.yml, nested as in responses/examples.yml (build / deploy → components
 * → one step per component).
 */
export function stoppingStep(
  steps: readonly DeploymentStep[] | undefined,
  status: "ERROR" | "RUNNING",
): { step: DeploymentStep; component?: string } | undefined {
  let found: { step: DeploymentStep; component?: string; depth: number } | undefined;
  const walk = (list: readonly DeploymentStep[], component: string | undefined, depth: number) => {
    for (const step of list) {
      const own = step.component_name ?? component;
      if (step.status === status && (found === undefined || depth > found.depth)) {
        found = { step, component: own, depth };
      }
      if (step.steps) walk(step.steps as DeploymentStep[], own, depth + 1);
    }
  };
  walk(steps ?? [], undefined, 0);
  return found && { step: found.step, component: found.component };
}

function stepText(found: { step: DeploymentStep; component?: string }): string {
  const what = found.step.message_base ?? found.step.name ?? "a step";
  const reason = found.step.reason?.message ?? found.step.reason?.code;
  return `${what}${found.component ? ` (${found.component})` : ""}${reason ? `: ${reason}` : ""}`;
}

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

/** Check (and, with `retry`, repair) the deployment of `target.digest`; never throws for a failed deployment. */
export async function verifyDeployment(
  deps: VerifyDeps,
  target: VerifyTarget,
  limits: VerifyLimits = DEFAULT_LIMITS,
): Promise<VerifyReport> {
  const checks: { check: string; ok: boolean; detail: string }[] = [];
  let redeployed = false;
  const fail = async (
    failure: NonNullable<VerifyReport["failure"]>,
    deployment?: Deployment,
  ): Promise<VerifyReport> => ({
    ok: false,
    stack: target.stack,
    digest: target.digest,
    deployment: deployment && { id: deployment.id, phase: deployment.phase ?? "UNKNOWN" },
    redeployed,
    checks,
    failure,
    logs: deployment ? await failureLogs(deps, target.appId, deployment.id, limits) : [],
  });

  const app = await deps.api.getApp(target.appId);
  const specDigest = serviceDigest(app.spec);
  if (specDigest !== target.digest) {
    checks.push({
      check: "the app's spec carries the stack's image",
      ok: false,
      detail: `App Platform's spec has ${specDigest ?? "no digest"}, the stack ${target.digest}`,
    });
    return fail({
      reason:
        `the app's spec carries ${specDigest ?? "no image digest"}, not the stack's ${target.digest}: Pulumi's ` +
        "state and App Platform disagree (a rollback, or a change outside Pulumi); `pulumi refresh`, then `up`",
    });
  }

  let deployment = [app.in_progress_deployment, app.pending_deployment, app.active_deployment].find((d) =>
    carries(d, target.digest),
  );
  if (deployment === undefined) {
    const active = app.active_deployment;
    const activeText = active
      ? `the active deployment ${active.id} runs ${serviceDigest(active.spec) ?? "another image"}`
      : "there is no active deployment";
    if (!target.retry) {
      checks.push({ check: "a deployment carries the stack's image", ok: false, detail: activeText });
      return fail({ phase: active?.phase, reason: `${activeText}, not ${target.digest}` });
    }
    // The retry: the spec is App Platform's already (the failed update stored it), so a new deployment of it is the
    // deploy that failed, done again. Nothing here depends on the spec having changed.
    deployment = await deps.api.createDeployment(target.appId);
    redeployed = true;
    deps.log(`${activeText}, not the stack's ${target.digest}: deploying the spec again (deployment ${deployment.id})`);
    checks.push({ check: "a deployment carries the stack's image", ok: true, detail: `${activeText}; redeployed` });
  }

  // Wait for a final phase.
  const deadline = deps.now() + limits.deployTimeoutMs;
  let lastPhase = deployment.phase;
  while (!FINAL_PHASES.includes(deployment.phase ?? "UNKNOWN")) {
    if (deps.now() >= deadline) {
      const running = stoppingStep(deployment.progress?.steps, "RUNNING");
      const phase = deployment.phase ?? "UNKNOWN";
      checks.push({
        check: `deployment ${deployment.id} is ACTIVE`,
        ok: false,
        detail: `still ${phase} after ${seconds(limits.deployTimeoutMs)}`,
      });
      return fail(
        {
          phase,
          component: running?.component,
          reason:
            `deployment ${deployment.id} is still ${phase} after ${seconds(limits.deployTimeoutMs)}` +
            (running ? `, at ${stepText(running)}` : ""),
        },
        deployment,
      );
    }
    await deps.sleep(limits.pollMs);
    deployment = await deps.api.getDeployment(target.appId, deployment.id);
    if (deployment.phase !== lastPhase) deps.log(`deployment ${deployment.id}: ${deployment.phase}`);
    lastPhase = deployment.phase;
  }

  if (deployment.phase !== "ACTIVE") {
    const stopped = stoppingStep(deployment.progress?.steps, "ERROR");
    checks.push({
      check: `deployment ${deployment.id} is ACTIVE`,
      ok: false,
      detail: `${deployment.phase}${stopped ? ` at ${stepText(stopped)}` : ""}`,
    });
    return fail(
      {
        phase: deployment.phase,
        component: stopped?.component,
        reason: `deployment ${deployment.id} ended ${deployment.phase}${stopped ? ` at ${stepText(stopped)}` : ""}`,
      },
      deployment,
    );
  }
  checks.push({ check: `deployment ${deployment.id} is ACTIVE`, ok: true, detail: `carries ${target.digest}` });

  // The live URL answers.
  const live = (await deps.api.getApp(target.appId)).live_url ?? app.live_url ?? target.url;
  if (live === undefined) {
    checks.push({ check: `${HEALTH_CHECK_PATH} answers 200`, ok: false, detail: "App Platform reports no live URL" });
    return fail({ phase: "ACTIVE", component: COMPONENTS.service, reason: "the app has no live URL" }, deployment);
  }
  const probe = `${live.replace(/\/+$/, "")}${HEALTH_CHECK_PATH}`;
  const healthDeadline = deps.now() + limits.healthTimeoutMs;
  let last = "no answer";
  for (;;) {
    last = await healthCheck(deps.fetch, probe, limits.requestTimeoutMs);
    if (last === "200") break;
    if (deps.now() >= healthDeadline) {
      checks.push({
        check: `${HEALTH_CHECK_PATH} answers 200`,
        ok: false,
        detail: `${probe}: ${last}, for ${seconds(limits.healthTimeoutMs)}`,
      });
      return fail(
        {
          phase: "ACTIVE",
          component: COMPONENTS.service,
          reason: `${probe} did not answer 200 within ${seconds(limits.healthTimeoutMs)} (last: ${last})`,
        },
        deployment,
      );
    }
    await deps.sleep(limits.pollMs);
  }
  checks.push({ check: `${HEALTH_CHECK_PATH} answers 200`, ok: true, detail: probe });
  return {
    ok: true,
    stack: target.stack,
    digest: target.digest,
    deployment: { id: deployment.id, phase: "ACTIVE" },
    redeployed,
    url: live,
    checks,
    logs: [],
  };
}

async function healthCheck(fetch: Fetch, url: string, timeoutMs: number): Promise<string> {
  try {
    const response = await fetch(url, { method: "GET", signal: AbortSignal.timeout(timeoutMs) });
    await response.text().catch(() => "");
    return String(response.status);
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    return name === "TimeoutError" || name === "AbortError"
      ? `no answer within ${seconds(timeoutMs)}`
      : `unreachable (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** The logs a failed deploy is explained by: the PRE_DEPLOY job's, then the service's deploy and run logs. */
export const FAILURE_LOGS: readonly { component: string; type: LogType }[] = [
  { component: COMPONENTS.migrateJob, type: LOG_TYPES.deploy },
  { component: COMPONENTS.migrateJob, type: LOG_TYPES.run },
  { component: COMPONENTS.service, type: LOG_TYPES.deploy },
  { component: COMPONENTS.service, type: LOG_TYPES.run },
];

async function failureLogs(
  deps: VerifyDeps,
  appId: string,
  deploymentId: string,
  limits: VerifyLimits,
): Promise<ComponentLog[]> {
  const logs: ComponentLog[] = [];
  for (const { component, type } of FAILURE_LOGS) {
    const text = await componentLogText(deps.api, appId, { component, type, deploymentId }, limits);
    if (text.trim() !== "") logs.push({ component, type, text });
  }
  return logs;
}

/** The text of one component's logs: the archived files, else what the live URL holds now. */
export async function componentLogText(
  api: AppPlatformApi,
  appId: string,
  options: { component: string; type: LogType; deploymentId?: string },
  limits: Pick<VerifyLimits, "logBytes" | "logTimeoutMs">,
): Promise<string> {
  let response: Awaited<ReturnType<AppPlatformApi["logs"]>>;
  try {
    response = await api.logs(appId, options);
  } catch (error) {
    return `(no logs: ${error instanceof Error ? error.message : String(error)})`;
  }
  const urls = response?.historic_urls?.length ? response.historic_urls : response?.live_url ? [response.live_url] : [];
  const parts: string[] = [];
  for (const url of urls)
    parts.push(await api.logText(url, { maxBytes: limits.logBytes, timeoutMs: limits.logTimeoutMs }));
  return parts.join("\n");
}

// ---- the report ------------------------------------------------------------------------------------------------

const fence = (text: string) => ["```", text.replace(/```/g, "ʼʼʼ").trimEnd(), "```"];

/** Markdown for the job summary ($GITHUB_STEP_SUMMARY) and the PR comment. */
export function verifyMarkdown(report: VerifyReport): string {
  const title = report.ok
    ? `### Deploy of \`${report.stack}\` verified`
    : `### Deploy of \`${report.stack}\` failed${report.failure?.phase ? `: ${report.failure.phase}` : ""}${
        report.failure?.component ? ` in \`${report.failure.component}\`` : ""
      }`;
  const lines = [title, ""];
  if (report.failure) lines.push(`**Why:** ${report.failure.reason}`, "");
  if (report.redeployed) lines.push("The active deployment was not the stack's: ops deployed the spec again.", "");
  lines.push("| check | result | detail |", "| --- | --- | --- |");
  for (const c of report.checks)
    lines.push(`| ${c.check} | ${c.ok ? "ok" : "**failed**"} | ${c.detail.replace(/\|/g, "\\|")} |`);
  lines.push("", `Image: \`${report.digest}\`${report.url ? ` · URL: ${report.url}` : ""}`, "");
  for (const log of report.logs) {
    lines.push(
      `<details><summary>${log.component}: ${log.type} logs</summary>`,
      "",
      ...fence(log.text),
      "",
      "</details>",
      "",
    );
  }
  return lines.join("\n");
}

/** The same, as plain lines for the terminal. */
export function verifyText(report: VerifyReport): string {
  const lines = report.checks.map((c) => `${c.ok ? "ok    " : "FAILED"} ${c.check}: ${c.detail}`);
  if (report.failure) {
    lines.push(
      `deploy of ${report.stack} failed: ${report.failure.reason}` +
        `${report.failure.phase ? ` [phase ${report.failure.phase}]` : ""}` +
        `${report.failure.component ? ` [component ${report.failure.component}]` : ""}`,
    );
  }
  for (const log of report.logs) lines.push(`---- ${log.component} ${log.type} logs ----`, log.text.trimEnd());
  return lines.join("\n");
}
