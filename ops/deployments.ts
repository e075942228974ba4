// What `up` and `review up` do around `pulumi up` on a DigitalOcean stack: refuse while a rollback pins the app,
// verify (and if need be redo) the deployment afterwards, explain a failed one, and write the report where people and
// workflows read it: stdout, the --summary-file, and $GITHUB_STEP_SUMMARY when GitHub Actions sets it.
import type { AppPlatformApi } from "./app-platform";
import { ExitCode, OpsError } from "./errors";
import type { Fetch } from "./http";
import type { StackOutputs } from "./pulumi";
import { OUTPUT, outputString } from "./reports";
import {
  componentLogText,
  DEFAULT_LIMITS,
  FAILURE_LOGS,
  serviceDigest,
  stoppingStep,
  type VerifyLimits,
  type VerifyReport,
  verifyDeployment,
  verifyMarkdown,
  verifyText,
} from "./verify";

/** The App Platform API and the clock that verification uses; cli.ts wires the real ones, tests a fake API. */
export interface DeploymentTools {
  /** undefined without DIGITALOCEAN_TOKEN. */
  api(): AppPlatformApi | undefined;
  readonly fetch: Fetch;
  sleep(ms: number): Promise<void>;
  nowMs(): number;
  readonly limits?: VerifyLimits;
}

/** The slice of commands.ts's Deps this module needs (kept narrow so that it does not import commands.ts). */
export interface DeploymentDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  print(text: string): void;
  warn(text: string): void;
  writeFile(path: string, content: string): Promise<void>;
  /** Appends (the step summary collects what every command of a step writes); falls back to writeFile. */
  appendFile?(path: string, content: string): Promise<void>;
  readonly deployments?: DeploymentTools;
}

/** Where a report goes besides stdout: the command's --summary-file, and GitHub's step summary when set. */
export async function writeReport(deps: DeploymentDeps, markdown: string, summaryFile?: string): Promise<void> {
  if (summaryFile !== undefined) await deps.writeFile(summaryFile, markdown);
  const stepSummary = deps.env.GITHUB_STEP_SUMMARY;
  if (stepSummary && stepSummary !== summaryFile) {
    await (deps.appendFile ?? deps.writeFile)(stepSummary, `${markdown}\n`);
  }
}

function apiOf(deps: DeploymentDeps): AppPlatformApi | undefined {
  return deps.deployments?.api();
}

/**
 * A rollback pins the app (apps_create_rollback.yml: "preventing any new deployments from being created"), and
 * App Platform refuses deployments until it is committed or reverted. `up` says so before it starts rather than
 * failing half-way, and never silently undoes the rollback.
 */
export async function refuseWhilePinned(deps: DeploymentDeps, stack: string, previous: StackOutputs | undefined) {
  const api = apiOf(deps);
  const appId = previous && outputString(previous, OUTPUT.appId);
  if (api === undefined || appId === undefined) return;
  const app = await api.getApp(appId);
  const pinned = app.pinned_deployment;
  if (pinned === undefined) return;
  throw new OpsError(
    `stack ${stack} is rolled back to deployment ${pinned.id} (image ${serviceDigest(pinned.spec) ?? "unknown"}), ` +
      `and App Platform holds it there: \`ops rollback ${stack} --commit\` keeps it and allows deploys again, ` +
      `\`ops rollback ${stack} --revert\` returns to the version before it. Then run this again.`,
    ExitCode.failed,
  );
}

/** After a successful `pulumi up`: verify, retry when the active deployment is not the spec's, report. */
export async function verifyAfterUp(
  deps: DeploymentDeps,
  stack: string,
  outputs: StackOutputs,
  summary: { file?: string; heading?: string },
): Promise<{ code: typeof ExitCode.ok | typeof ExitCode.failed; markdown: string }> {
  const appId = outputString(outputs, OUTPUT.appId);
  const digest = outputString(outputs, OUTPUT.imageDigest);
  const api = apiOf(deps);
  const tools = deps.deployments;
  if (appId === undefined || digest === undefined) {
    // A stack deployed before these outputs existed: nothing to check against yet.
    const markdown = summary.heading ?? "";
    if (summary.file !== undefined) await deps.writeFile(summary.file, markdown);
    return { code: ExitCode.ok, markdown };
  }
  if (api === undefined || tools === undefined) {
    const note = "Not verified: DIGITALOCEAN_TOKEN is not set, so App Platform's deployment could not be checked.";
    deps.warn(`${stack}: ${note}`);
    const markdown = `${summary.heading ?? ""}\n${note}\n`;
    await writeReport(deps, markdown, summary.file);
    return { code: ExitCode.ok, markdown };
  }
  const report = await verifyDeployment(
    { api, fetch: tools.fetch, sleep: tools.sleep, now: tools.nowMs, log: (line) => deps.print(line) },
    { stack, appId, digest, url: outputString(outputs, OUTPUT.url), retry: true },
    tools.limits ?? DEFAULT_LIMITS,
  );
  return finish(deps, report, summary);
}

async function finish(
  deps: DeploymentDeps,
  report: VerifyReport,
  summary: { file?: string; heading?: string },
): Promise<{ code: typeof ExitCode.ok | typeof ExitCode.failed; markdown: string }> {
  const text = verifyText(report);
  if (report.ok) deps.print(text);
  else deps.warn(text);
  const markdown = `${summary.heading ? `${summary.heading}\n` : ""}${verifyMarkdown(report)}`;
  await writeReport(deps, markdown, summary.file);
  return { code: report.ok ? ExitCode.ok : ExitCode.failed, markdown };
}

/** Verify a deployment that ops started itself (a rollback, a revert) against the digest it carries. */
export async function verifyStarted(
  deps: DeploymentDeps,
  stack: string,
  target: { appId: string; digest: string },
  summaryFile?: string,
): Promise<typeof ExitCode.ok | typeof ExitCode.failed> {
  const api = apiOf(deps);
  const tools = deps.deployments;
  if (api === undefined || tools === undefined) throw missingToken();
  const report = await verifyDeployment(
    { api, fetch: tools.fetch, sleep: tools.sleep, now: tools.nowMs, log: (line) => deps.print(line) },
    { stack, appId: target.appId, digest: target.digest, retry: false },
    tools.limits ?? DEFAULT_LIMITS,
  );
  return (await finish(deps, report, { file: summaryFile })).code;
}

export function missingToken(): OpsError {
  return new OpsError("DIGITALOCEAN_TOKEN is not set: this needs App Platform's API", ExitCode.prerequisite);
}

/**
 * `pulumi up` failed. When the stack already had an app, its newest deployment usually says why (the provider's own
 * error is `godo.Stringify(deployment.Progress)`, resource_app.go WaitForAppDeployment): report its phase, the
 * step and component that stopped it, and the logs. Best effort: the `up` failure is what the exit code reports.
 */
export async function explainFailedUp(
  deps: DeploymentDeps,
  stack: string,
  previous: StackOutputs | undefined,
  summaryFile?: string,
): Promise<void> {
  const api = apiOf(deps);
  const appId = previous && outputString(previous, OUTPUT.appId);
  if (api === undefined || appId === undefined) return;
  try {
    const [latest] = await api.listDeployments(appId);
    if (latest === undefined || latest.phase === "ACTIVE") return;
    const stopped = stoppingStep(latest.progress?.steps, latest.phase === "ERROR" ? "ERROR" : "RUNNING");
    const limits = deps.deployments?.limits ?? DEFAULT_LIMITS;
    const logs = [];
    for (const { component, type } of FAILURE_LOGS) {
      const text = await componentLogText(api, appId, { component, type, deploymentId: latest.id }, limits);
      if (text.trim() !== "") logs.push({ component, type, text });
    }
    const report: VerifyReport = {
      ok: false,
      stack,
      digest: serviceDigest(latest.spec) ?? "unknown",
      deployment: { id: latest.id, phase: latest.phase ?? "UNKNOWN" },
      redeployed: false,
      checks: [{ check: `deployment ${latest.id}`, ok: false, detail: latest.phase ?? "UNKNOWN" }],
      failure: {
        phase: latest.phase,
        component: stopped?.component,
        reason:
          `the newest deployment ${latest.id} is ${latest.phase}` +
          (stopped
            ? ` at ${stopped.step.message_base ?? stopped.step.name}${stopped.step.reason?.message ? `: ${stopped.step.reason.message}` : ""}`
            : ""),
      },
      logs,
    };
    await finish(deps, report, { file: summaryFile });
  } catch (error) {
    if (!(error instanceof OpsError)) throw error;
    deps.warn(`could not read the app's deployments: ${error.message}`);
  }
}
