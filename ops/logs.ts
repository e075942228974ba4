// `ops logs <stack> [--component <name>] [--type run|deploy|build] [--deployment <id>]`: a component's logs through
// App Platform's logs endpoints (apps_get_logs_active_deployment.yml, apps_get_logs.yml), which answer with URLs to
// archived files and a live URL (models/apps_get_logs_response.yml); ops downloads and prints them.
import { LOG_TYPES } from "./app-platform";
import { type DeploymentDeps, missingToken } from "./deployments";
import { ExitCode, type ExitCodeValue, usageError } from "./errors";
import { componentLogText, DEFAULT_LIMITS } from "./verify";

export interface LogsOptions {
  readonly component: string;
  readonly type: string;
  readonly deployment?: string;
}

export async function runLogs(
  deps: DeploymentDeps & { print(text: string): void },
  stack: string,
  appId: string,
  options: LogsOptions,
): Promise<ExitCodeValue> {
  const type = LOG_TYPES[options.type as keyof typeof LOG_TYPES];
  if (type === undefined) throw usageError(`--type must be one of ${Object.keys(LOG_TYPES).join(", ")}`);
  const api = deps.deployments?.api();
  if (api === undefined) throw missingToken();
  const limits = deps.deployments?.limits ?? DEFAULT_LIMITS;
  const text = await componentLogText(
    api,
    appId,
    { component: options.component, type, deploymentId: options.deployment },
    { logBytes: Math.max(limits.logBytes, 1_000_000), logTimeoutMs: limits.logTimeoutMs },
  );
  const where = options.deployment ? `deployment ${options.deployment}` : "the active deployment";
  if (text.trim() === "") {
    deps.print(`${stack}: no ${options.type} logs for ${options.component} in ${where}`);
    return ExitCode.ok;
  }
  deps.print(text.trimEnd());
  return ExitCode.ok;
}
