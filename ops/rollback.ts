// `ops rollback <stack> [--to <deployment id | image digest>]`, and `--commit` / `--revert` to end one.
//
// It uses App Platform's own rollback (POST /v2/apps/{app_id}/rollback, specification/resources/apps/
// apps_create_rollback.yml): a new deployment of an earlier deployment's spec, so the exact image digest and settings
// that once ran, with no build and no Pulumi CLI needed, in one call that App Platform validates first
// (apps_validate_rollback.yml). The rollback pins the app: App Platform refuses new deployments until it is committed
// (apps_commit_rollback.yml) or reverted (apps_revert_rollback.yml), and `ops up` checks the pin before it starts, so
// the next `up` can neither silently undo the rollback nor silently redo the bad version. Pulumi's state stays
// truthful through the project's `refresh: always` (Pulumi.yaml): every later preview and update first reads the
// app as it runs, so the diff shows the rolled-back image against the checkout's. The alternative, pinning the
// digest in stack config and running `up`, needs the CLI, a build and a committed stack file to survive the next CI
// deploy, and App Platform would not stop a deploy that forgot the pin.
import type { AppPlatformApi, Deployment } from "./app-platform";
import { type DeploymentDeps, missingToken, verifyStarted } from "./deployments";
import { ExitCode, type ExitCodeValue, OpsError, usageError } from "./errors";
import { serviceDigest } from "./verify";

export interface RollbackOptions {
  readonly to?: string;
  readonly commit: boolean;
  readonly revert: boolean;
  readonly summaryFile?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** Deployments that once served: ACTIVE now, or SUPERSEDED by a later one (apps_deployment_phase.yml). */
const SERVED = new Set(["ACTIVE", "SUPERSEDED"]);

/** The deployment to return to: the one named, the newest that ran the digest, or the previous good version. */
export async function rollbackTarget(
  api: AppPlatformApi,
  appId: string,
  active: Deployment | undefined,
  to: string | undefined,
): Promise<Deployment> {
  const activeDigest = serviceDigest(active?.spec);
  if (to !== undefined && !DIGEST.test(to)) return api.getDeployment(appId, to);
  const deployments = await api.listDeployments(appId);
  const found = deployments.find((d) =>
    to === undefined
      ? d.phase === "SUPERSEDED" && serviceDigest(d.spec) !== activeDigest
      : SERVED.has(d.phase ?? "") && serviceDigest(d.spec) === to,
  );
  if (found === undefined) {
    throw new OpsError(
      to === undefined
        ? `no earlier deployment that served another image than the active one (${activeDigest ?? "none"}) among the last ${deployments.length}`
        : `no deployment among the last ${deployments.length} served ${to}; name a deployment id instead`,
      ExitCode.failed,
    );
  }
  return found;
}

export async function runRollback(
  deps: DeploymentDeps & { print(text: string): void },
  stack: string,
  appId: string,
  options: RollbackOptions,
): Promise<ExitCodeValue> {
  if (options.commit && options.revert) throw usageError("give at most one of --commit and --revert");
  if ((options.commit || options.revert) && options.to !== undefined) {
    throw usageError("--to starts a rollback; --commit and --revert end one");
  }
  const api = deps.deployments?.api();
  if (api === undefined) throw missingToken();
  const app = await api.getApp(appId);
  const pinned = app.pinned_deployment;

  if (options.commit || options.revert) {
    if (pinned === undefined) {
      deps.print(`${stack} is not rolled back: nothing to ${options.commit ? "commit" : "revert"}`);
      return ExitCode.ok;
    }
    if (options.commit) {
      await api.commitRollback(appId);
      deps.print(
        `${stack}: kept the rollback to deployment ${pinned.id} (${serviceDigest(pinned.spec) ?? "image unknown"}); ` +
          "deploys are allowed again, and the next `up` deploys the checkout's image (its preview shows the change)",
      );
      return ExitCode.ok;
    }
    const reverted = await api.revertRollback(appId);
    const digest = serviceDigest(reverted.spec) ?? serviceDigest((await api.getApp(appId)).spec);
    deps.print(`${stack}: reverting the rollback with deployment ${reverted.id}`);
    if (digest === undefined) throw new OpsError(`deployment ${reverted.id} carries no image digest`, ExitCode.failed);
    return verifyStarted(deps, stack, { appId, digest }, options.summaryFile);
  }

  if (pinned !== undefined) {
    throw new OpsError(
      `${stack} is already rolled back to deployment ${pinned.id}: \`--commit\` or \`--revert\` it first`,
      ExitCode.failed,
    );
  }
  const target = await rollbackTarget(api, appId, app.active_deployment, options.to);
  const digest = serviceDigest(target.spec);
  if (digest === undefined) throw new OpsError(`deployment ${target.id} carries no image digest`, ExitCode.failed);
  if (target.id === app.active_deployment?.id) {
    deps.print(`${stack} already runs deployment ${target.id} (${digest})`);
    return ExitCode.ok;
  }
  const validation = await api.validateRollback(appId, target.id);
  for (const warning of validation.warnings ?? []) deps.warn(`rollback warning: ${warning.code}: ${warning.message}`);
  if (validation.valid === false) {
    throw new OpsError(
      `App Platform refuses the rollback to deployment ${target.id}: ` +
        `${validation.error?.code ?? "invalid"}: ${validation.error?.message ?? "no reason given"}`,
      ExitCode.failed,
    );
  }
  const started = await api.rollback(appId, target.id);
  deps.print(`${stack}: rolling back to deployment ${target.id} (${digest}) with deployment ${started.id}`);
  const code = await verifyStarted(deps, stack, { appId, digest }, options.summaryFile);
  deps.print(
    `App Platform holds ${stack} at this version: \`ops up ${stack}\` refuses until \`ops rollback ${stack} --commit\` ` +
      `(keep it) or \`--revert\`. The database schema is not rolled back: migrations only go forward (README).`,
  );
  return code;
}
