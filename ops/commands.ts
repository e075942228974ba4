// What each CLI command does, written against small interfaces (Deps) so that tests run them with an in-memory
// Pulumi workspace, a fake probe and recorded API clients. cli.ts wires the real ones.

import { randomBytes } from "node:crypto";
import { localNames } from "../infra/local-spec";
import { LOCAL_STATE_DIR, type StackEnvironment, stackEnvironment } from "./backend";
import { type DeploymentTools, explainFailedUp, refuseWhilePinned, verifyAfterUp } from "./deployments";
import { ExitCode, type ExitCodeValue, OpsError, usageError } from "./errors";
import type { DeploymentRecord } from "./github";
import { deletePrImageTags, type ImageCleanup, type RegistryTags } from "./images";
import { type CloudProject, type CloudResource, findLeftovers } from "./leftovers";
import { type LogsOptions, runLogs } from "./logs";
import { checkPrerequisites, type Probe } from "./prerequisites";
import { driftedResources, summarisePreview } from "./preview-summary";
import type { OpenWorkspace, PulumiWorkspace, StackHandle, StackOutputs } from "./pulumi";
import { decideReap, type StackState } from "./reaper";
import {
  costText,
  driftReport,
  OUTPUT,
  outputCost,
  outputString,
  outputUrl,
  reapReport,
  reviewComment,
} from "./reports";
import { type RollbackOptions, runRollback } from "./rollback";
import {
  PROJECT,
  parsePrNumber,
  parseStackRef,
  prNumberOf,
  prStackName,
  type StackRef,
  shortStackName,
} from "./stacks";
import { nextReviewTags, parseCommit, parseTtl, verifyTags } from "./tags";

/** Stack tags on self-managed backends arrived in Pulumi CLI 3.211.0 (see ops/tags.ts). */
export const MINIMUM_PULUMI_FOR_TAGS = "3.211.0";

export interface PullRequestSource {
  openPullRequests(): Promise<Set<number>>;
}

export interface GitHubWriter {
  upsertComment(pr: number, topic: string, body: string): Promise<string>;
  upsertIssue(
    topic: string,
    input: { title: string; body: string; labels?: string[]; close?: boolean },
  ): Promise<string>;
  recordDeployment(input: DeploymentRecord): Promise<string>;
  deactivateDeployments(environment: string): Promise<number>;
}

/** The DigitalOcean API as the reaper and the PR teardowns use it (ops/digitalocean.ts). */
export interface CloudInventory extends RegistryTags {
  listApps(): Promise<CloudResource[]>;
  listDatabases(): Promise<CloudResource[]>;
  listProjects(): Promise<CloudProject[]>;
  delete(resource: CloudResource): Promise<void>;
}

export interface Deps {
  readonly repoRoot: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  now(): Date;
  readonly openWorkspace: OpenWorkspace;
  readonly probe: Probe;
  /** Waits (between health checks). */
  sleep(ms: number): Promise<void>;
  /** A line for people (stdout). */
  print(text: string): void;
  /** Pulumi's streamed progress (stdout, unbuffered). */
  progress(text: string): void;
  /** A warning (stderr). */
  warn(text: string): void;
  writeFile(path: string, content: string): Promise<void>;
  readFile(path: string): Promise<string>;
  ensureDir(path: string): Promise<void>;
  /** The checked-out commit, if this is a git checkout. */
  gitHead(): Promise<string | undefined>;
  /** A step output for the workflow (GitHub Actions' $GITHUB_OUTPUT); nothing outside Actions. */
  setOutput(name: string, value: string): Promise<void>;
  /** Clients for the GitHub and DigitalOcean APIs; they throw OpsError(prerequisite) when their token is missing. */
  github(): PullRequestSource & GitHubWriter;
  digitalocean(): CloudInventory | undefined;
  /** Appends to a file ($GITHUB_STEP_SUMMARY collects every command of a step); writeFile stands in without it. */
  appendFile?(path: string, content: string): Promise<void>;
  /** App Platform's deployments API and the clock, for verify, retry, rollback and logs (ops/deployments.ts). */
  readonly deployments?: DeploymentTools;
}

async function open(
  deps: Deps,
  stack: StackRef,
  needs: { minimumPulumi?: string; label?: string } = {},
): Promise<{ ws: PulumiWorkspace; env: StackEnvironment }> {
  // Every stack needs the Docker engine, whatever the command: each program holds docker resources (the image it
  // builds; the local containers), and the docker provider pings the daemon when it is configured, before any step
  // (pulumi/pulumi-docker provider/provider.go, Configure → configureDockerClient(config, true) → cli.Ping in
  // provider/image.go), which preview, refresh and destroy do too.
  await checkPrerequisites(deps.probe, { pulumi: true, docker: true, minimumPulumi: needs.minimumPulumi });
  const env = stackEnvironment(stack, deps.env, deps.repoRoot);
  if (stack.kind === "local") await deps.ensureDir(`${deps.repoRoot}/${LOCAL_STATE_DIR}`);
  deps.print(`${needs.label ?? `stack ${stack.name}`}: state in ${env.backend}`);
  const ws = await deps.openWorkspace({
    workDir: deps.repoRoot,
    envVars: env.envVars,
    secretsProvider: env.secretsProvider,
    onOutput: deps.progress,
  });
  return { ws, env };
}

async function printOutputs(deps: Deps, outputs: StackOutputs): Promise<void> {
  const url = outputUrl(outputs);
  if (url !== undefined) {
    deps.print(`URL: ${url}`);
    await deps.setOutput("url", url);
  }
  const cost = outputCost(outputs);
  if (cost !== undefined) deps.print(`estimated cost: ${costText(cost)}`);
}

// ---- preview / up / destroy / drift ----------------------------------------------------------------------------

export interface PreviewOptions {
  readonly diff: boolean;
  readonly expectNoChanges: boolean;
  readonly summaryFile?: string;
  readonly commit?: string;
}

export async function preview(deps: Deps, rawStack: string, options: PreviewOptions): Promise<ExitCodeValue> {
  const stack = parseStackRef(rawStack);
  const { ws } = await open(deps, stack);
  // A PR stack is only ever created by `review up`, which tags it; production and local may be previewed before
  // their first deploy.
  const handle = stack.kind === "pr" ? await ws.select(stack.name) : await ws.createOrSelect(stack.name);
  if (handle === undefined) {
    throw new OpsError(
      `stack ${stack.name} does not exist: \`review up ${prNumberOf(stack.name)}\` creates it`,
      ExitCode.failed,
    );
  }
  if (stack.kind === "local") await ensureLocalPostgresPassword(deps, handle);
  const outcome = await handle.preview({ diff: options.diff });
  const summary = summarisePreview({
    stack: stack.name,
    steps: outcome.steps,
    diff: options.diff ? outcome.stdout : undefined,
    commit: options.commit ?? (await deps.gitHead()),
  });
  deps.print(summary.markdown.split("\n")[2] ?? "");
  for (const loss of summary.stateful)
    deps.warn(`stateful resource will be ${loss.kind}d: ${loss.name} (${loss.type})`);
  if (options.summaryFile !== undefined) await deps.writeFile(options.summaryFile, summary.markdown);
  return options.expectNoChanges && summary.hasChanges ? ExitCode.changes : ExitCode.ok;
}

export async function up(deps: Deps, rawStack: string, options: { summaryFile?: string } = {}): Promise<ExitCodeValue> {
  const stack = parseStackRef(rawStack);
  if (stack.kind === "pr") {
    throw usageError(`per-PR stacks are deployed with \`review up ${stack.pr}\`, which also tags them for the reaper`);
  }
  const { ws } = await open(deps, stack);
  const handle = await ws.createOrSelect(stack.name);
  if (stack.kind === "local") {
    await ensureLocalPostgresPassword(deps, handle);
    const outputs = await handle.up();
    await waitForHealthyApp(deps, outputs);
    await printOutputs(deps, outputs);
    if (options.summaryFile !== undefined)
      await deps.writeFile(options.summaryFile, deployedHeading(stack.name, outputs));
    return ExitCode.ok;
  }
  const outputs = await upVerified(deps, handle, stack.name, options.summaryFile);
  const verified = await verifyAfterUp(deps, stack.name, outputs, {
    file: options.summaryFile,
    heading: deployedHeading(stack.name, outputs),
  });
  return verified.code;
}

function deployedHeading(stack: string, outputs: StackOutputs): string {
  return `### Deployed \`${stack}\`\n\n**URL:** ${outputUrl(outputs) ?? "not reported"}\n`;
}

/**
 * `pulumi up` of a DigitalOcean stack, refused while a rollback pins the app, with the failed deployment's phase,
 * component and logs reported when it fails (ops/deployments.ts).
 */
async function upVerified(
  deps: Deps,
  handle: StackHandle,
  stack: string,
  summaryFile: string | undefined,
): Promise<StackOutputs> {
  const previous = await readOutputs(handle);
  await refuseWhilePinned(deps, stack, previous);
  let outputs: StackOutputs;
  try {
    outputs = await handle.up();
  } catch (error) {
    if (error instanceof OpsError && error.exitCode === ExitCode.failed) {
      await explainFailedUp(deps, stack, previous, summaryFile);
    }
    throw error;
  }
  await printOutputs(deps, outputs);
  return outputs;
}

/** The local Postgres password: stack config, a secret (infra/config.ts refuses an empty one; tests pin the key). */
const LOCAL_PASSWORD_KEY = `${PROJECT}:localPostgresPassword`;

/**
 * The first `up local` generates the local Postgres password and keeps it as a stack secret in Pulumi.local.yaml, so
 * a fresh machine needs no set-up step. Later runs find it and leave it alone: the data volume was initialised with
 * it. The CLI lists Pulumi.yaml's default ("") for a key the stack never set (pkg/cmd/pulumi/config/config.go,
 * listConfig, workspace.ApplyProjectConfig), so an empty value is as good as none.
 */
async function ensureLocalPostgresPassword(deps: Deps, handle: StackHandle): Promise<void> {
  const current = await handle.configValue(LOCAL_PASSWORD_KEY);
  if (current !== undefined && current !== "") return;
  await refuseOrphanedVolume(deps, handle.name);
  await handle.setSecretConfig(LOCAL_PASSWORD_KEY, randomBytes(24).toString("base64url"));
  deps.print(`generated a Postgres password for the local stack (secret config ${LOCAL_PASSWORD_KEY})`);
}

/**
 * A new password can't open a data volume that already exists: Postgres applies POSTGRES_PASSWORD only when it
 * initialises an empty one. Such a volume is left when Pulumi.local.yaml was deleted by hand while the data was kept;
 * say how to reconcile the two instead of running migrations that can only fail.
 */
async function refuseOrphanedVolume(deps: Deps, stack: string): Promise<void> {
  const volume = localNames(PROJECT, stack).volume;
  const inspected = await deps.probe.run("docker", ["volume", "inspect", "--format", "{{.Name}}", volume]);
  if (inspected.exitCode !== 0) return;
  throw new OpsError(
    `The Docker volume ${volume} holds the ${stack} stack's Postgres data, initialised with a password that ` +
      `Pulumi.${stack}.yaml no longer has. Put that password back with \`pulumi config set --secret ` +
      `localPostgresPassword <password> --stack ${stack}\`, or delete the data with \`docker volume rm ${volume}\`, ` +
      "then run this again.",
    ExitCode.failed,
  );
}

/** How often and how long `up local` checks the app's health: kreuzwerker's `wait` polls once a second. */
const HEALTH_POLL_MS = 1_000;
const HEALTH_ATTEMPTS = 120;

/**
 * `up local` returns once the app container reports healthy, after every update. The provider's `wait` applies only
 * when it creates a container (kreuzwerker/terraform-provider-docker, internal/provider/resource_docker_container_funcs.go:
 * the health loop is in resourceDockerContainerCreate, resourceDockerContainerUpdate has none), so an update, or an
 * up that changed nothing, would otherwise pass with an app that does not answer.
 */
async function waitForHealthyApp(deps: Deps, outputs: StackOutputs): Promise<void> {
  const containers = outputs.containers?.value as { app?: unknown } | undefined;
  const app = containers?.app;
  if (typeof app !== "string") throw new OpsError("the local stack reported no app container", ExitCode.failed);
  let last = "no answer";
  for (let attempt = 0; attempt < HEALTH_ATTEMPTS; attempt += 1) {
    if (attempt > 0) await deps.sleep(HEALTH_POLL_MS);
    const result = await deps.probe.run("docker", ["inspect", "--format", "{{json .State}}", app]);
    if (result.exitCode !== 0) {
      throw new OpsError(`the app container ${app} is gone after the update: ${result.stderr.trim()}`, ExitCode.failed);
    }
    const state = JSON.parse(result.stdout) as { Status?: string; ExitCode?: number; Health?: { Status?: string } };
    const health = state.Health?.Status;
    if (health === "healthy") return;
    last = `${state.Status ?? "unknown"}, health ${health ?? "not reported"}`;
    if (health === "unhealthy" || state.Status === "exited" || state.Status === "dead") break;
  }
  throw new OpsError(
    `the app container ${app} is not healthy after the update (${last}): see \`docker logs ${app}\``,
    ExitCode.failed,
  );
}

export interface DestroyOptions {
  readonly yes: boolean;
  readonly remove: boolean;
}

/** Destroy a stack's resources (and with `remove`, the stack). A stack that does not exist is already destroyed. */
export async function destroy(deps: Deps, rawStack: string, options: DestroyOptions): Promise<ExitCodeValue> {
  const stack = parseStackRef(rawStack);
  if (stack.kind !== "local" && !options.yes) {
    throw usageError(`destroying stack ${stack.name} deletes its cloud resources: add --yes to confirm`);
  }
  const { ws } = await open(deps, stack);
  // `stack rm` deletes Pulumi.<stack>.yaml (pkg/cmd/pulumi/stack/stack_remove.go), and for `local` that file holds
  // the Postgres password the kept data volume was initialised with: keep it, so that the next `up local` opens the
  // same data. A local stack file holds nothing else that could go stale.
  await destroyIn(deps, ws, stack.name, { remove: options.remove, preserveConfig: stack.kind === "local" });
  return ExitCode.ok;
}

/**
 * Destroys a stack; with `prImages`, a PR's stack, whose image tags are deleted once its resources are gone. Returns
 * what happened to those tags: undefined without `prImages` or when the stack does not exist (nothing was pushed
 * that a teardown would know of). Tags left behind are a warning: the environment is gone, which is what was asked.
 */
async function destroyIn(
  deps: Deps,
  ws: PulumiWorkspace,
  name: string,
  options: {
    remove: boolean;
    preserveConfig?: boolean;
    prImages?: { pr: number; registry: RegistryTags | undefined };
  },
): Promise<ImageCleanup | undefined> {
  const handle = await ws.select(name);
  if (handle === undefined) {
    deps.print(`stack ${name} does not exist: nothing to destroy`);
    return undefined;
  }
  // Read before destroying: the image repository is a stack output, and the outputs go with the resources.
  const outputs = options.prImages === undefined ? undefined : await readOutputs(handle);
  await handle.destroy({ remove: options.remove, preserveConfig: options.preserveConfig });
  deps.print(options.remove ? `destroyed and removed stack ${name}` : `destroyed the resources of stack ${name}`);
  if (options.prImages === undefined) return undefined;
  const images = await deletePrImageTags({ ...options.prImages, outputs });
  if (images.complete) deps.print(`${name}: ${images.text}`);
  else deps.warn(`${name}: destroyed, but ${images.text}`);
  return images;
}

/** The stack's outputs, or undefined when they can't be read: not a reason to keep an environment running. */
async function readOutputs(handle: StackHandle): Promise<StackOutputs | undefined> {
  try {
    return await handle.outputs();
  } catch (error) {
    if (error instanceof OpsError) return undefined;
    throw error;
  }
}

export async function drift(deps: Deps, rawStack: string, options: { reportFile?: string }): Promise<ExitCodeValue> {
  const stack = parseStackRef(rawStack);
  const { ws } = await open(deps, stack);
  const handle = await ws.select(stack.name);
  if (handle === undefined)
    throw new OpsError(`stack ${stack.name} does not exist: nothing to compare`, ExitCode.failed);
  const outcome = await handle.previewRefresh();
  const resources = driftedResources(outcome.steps);
  const changed = Object.entries(outcome.changeSummary).some(([op, n]) => op !== "same" && n > 0);
  if (!changed && resources.length === 0) {
    deps.print(`no drift on ${stack.name}`);
    return ExitCode.ok;
  }
  const runUrl =
    deps.env.GITHUB_SERVER_URL && deps.env.GITHUB_REPOSITORY && deps.env.GITHUB_RUN_ID
      ? `${deps.env.GITHUB_SERVER_URL}/${deps.env.GITHUB_REPOSITORY}/actions/runs/${deps.env.GITHUB_RUN_ID}`
      : undefined;
  const report = driftReport({
    stack: stack.name,
    counts: outcome.changeSummary,
    resources,
    output: outcome.stdout,
    runUrl,
  });
  deps.warn(`drift on ${stack.name}: ${resources.join(", ") || "see the output"}`);
  if (options.reportFile !== undefined) await deps.writeFile(options.reportFile, report);
  return ExitCode.changes;
}

// ---- review up / down / reap -------------------------------------------------------------------------------------

export interface ReviewUpOptions {
  readonly commit?: string;
  readonly ttl: string;
  readonly summaryFile?: string;
}

export async function reviewUp(deps: Deps, rawPr: string, options: ReviewUpOptions): Promise<ExitCodeValue> {
  const pr = parsePrNumber(rawPr);
  const ttlMs = parseTtl(options.ttl);
  const rawCommit = options.commit ?? (await deps.gitHead());
  if (rawCommit === undefined) throw usageError("no commit: pass --commit <sha> (not a git checkout)");
  const commit = parseCommit(rawCommit);
  const stack = parseStackRef(prStackName(pr));
  const { ws } = await open(deps, stack, { minimumPulumi: MINIMUM_PULUMI_FOR_TAGS });
  const handle = await ws.createOrSelect(stack.name);
  // Tags go on before the update: if the update fails half-way, the reaper still knows whose resources these are.
  const tags = nextReviewTags({ pr, commit, ttlMs, now: deps.now(), existing: await handle.listTags() });
  await handle.setTags(tags);
  verifyTags(tags, await handle.listTags());
  const outputs = await upVerified(deps, handle, stack.name, options.summaryFile);
  // The PR comment (--summary-file) and the job summary carry the same verification report.
  const verified = await verifyAfterUp(deps, stack.name, outputs, {
    file: options.summaryFile,
    heading: reviewComment({ pr, outputs, commit, ttlMs }),
  });
  return verified.code;
}

export async function reviewDown(deps: Deps, rawPr: string): Promise<ExitCodeValue> {
  const pr = parsePrNumber(rawPr);
  const stack = parseStackRef(prStackName(pr));
  const { ws } = await open(deps, stack);
  const images = await destroyIn(deps, ws, stack.name, {
    remove: true,
    prImages: { pr, registry: deps.digitalocean() },
  });
  // The workflow tells "destroyed" from "there was nothing": only the first earns a PR comment.
  await deps.setOutput("existed", String(images !== undefined));
  return ExitCode.ok;
}

export interface ReapOptions {
  /** Comma-separated open PR numbers; when absent they come from the GitHub API. */
  readonly openPrs?: string;
  readonly dryRun: boolean;
  readonly deleteLeftovers: boolean;
  readonly defaultTtl: string;
  readonly summaryFile?: string;
  /** Resources younger than this are never leftovers (a stack may be being created). */
  readonly leftoverMinAge: string;
}

export function parsePrList(raw: string): Set<number> {
  const parts = raw.split(/[\s,]+/).filter((part) => part !== "");
  return new Set(parts.map(parsePrNumber));
}

async function stackStates(ws: PulumiWorkspace): Promise<StackState[]> {
  const states: StackState[] = [];
  for (const listing of await ws.listStacks()) {
    const name = shortStackName(listing.name);
    let tags: Record<string, string> | undefined;
    if (prNumberOf(name) !== undefined) {
      try {
        tags = await (await ws.select(name))?.listTags();
      } catch {
        tags = undefined; // unreadable tags: decideReap falls back to the last update and says so
      }
    }
    states.push({ name, tags, lastUpdate: listing.lastUpdate, updateInProgress: listing.updateInProgress });
  }
  return states;
}

export async function reviewReap(deps: Deps, options: ReapOptions): Promise<ExitCodeValue> {
  const defaultTtlMs = parseTtl(options.defaultTtl);
  const minAgeMs = parseTtl(options.leftoverMinAge);
  const openPrs = options.openPrs !== undefined ? parsePrList(options.openPrs) : await deps.github().openPullRequests();
  // All PR stacks share one backend and one environment: any `pr-<n>` name gives the same StackEnvironment.
  const { ws } = await open(deps, parseStackRef("pr-1"), {
    minimumPulumi: MINIMUM_PULUMI_FOR_TAGS,
    label: "per-PR stacks",
  });
  const decisions = decideReap({ stacks: await stackStates(ws), openPrs, now: deps.now(), defaultTtlMs });
  const cloud = deps.digitalocean();
  const results: Record<string, string> = {};
  let failed = false;
  for (const decision of decisions) {
    deps.print(`${decision.stack}: ${decision.action} (${decision.reason})`);
    if (decision.action !== "destroy" || options.dryRun) continue;
    try {
      // decideReap destroys only `pr-<n>` stacks, and always says which PR.
      const prImages = decision.pr === undefined ? undefined : { pr: decision.pr, registry: cloud };
      const images = await destroyIn(deps, ws, decision.stack, { remove: true, prImages });
      results[decision.stack] = images === undefined ? "destroyed" : `destroyed; ${images.text}`;
    } catch (error) {
      if (!(error instanceof OpsError)) throw error;
      if (error.exitCode === ExitCode.locked) {
        results[decision.stack] = "skipped: locked by another update; next run";
      } else {
        failed = true;
        results[decision.stack] = `failed: ${error.message}`;
      }
      deps.warn(`${decision.stack}: ${results[decision.stack]}`);
    }
  }

  const leftoverResults: Record<string, string> = {};
  let leftovers: ReturnType<typeof findLeftovers> = [];
  let leftoverSearch: string | undefined;
  if (cloud === undefined) {
    leftoverSearch = "skipped, DIGITALOCEAN_TOKEN is not set";
  } else {
    // Resources first, stacks second: a stack is created before its resources, so every resource listed here
    // whose stack exists finds it in the later stack listing (see findLeftovers).
    const resources = [...(await cloud.listApps()), ...(await cloud.listDatabases())];
    const projects = await cloud.listProjects();
    const stacks = new Set((await ws.listStacks()).map((s) => shortStackName(s.name)));
    leftovers = findLeftovers({ resources, projects, stacks, openPrs, now: deps.now(), minAgeMs });
    for (const leftover of leftovers) {
      const key = `${leftover.resource.kind}:${leftover.resource.id}`;
      deps.warn(`leftover: ${leftover.reason}`);
      if (!options.deleteLeftovers || options.dryRun) continue;
      try {
        await cloud.delete(leftover.resource);
        leftoverResults[key] = "deleted";
      } catch (error) {
        if (!(error instanceof OpsError)) throw error;
        failed = true;
        leftoverResults[key] = `failed: ${error.message}`;
      }
    }
  }
  const report = reapReport({ decisions, results, leftovers, leftoverResults, leftoverSearch, dryRun: options.dryRun });
  if (options.summaryFile !== undefined) await deps.writeFile(options.summaryFile, report);
  return failed ? ExitCode.failed : ExitCode.ok;
}

// ---- rollback / logs ------------------------------------------------------------------------------------------

/** The App Platform app of a deployed DigitalOcean stack, from its `appId` output. */
async function stackAppId(deps: Deps, rawStack: string): Promise<{ stack: string; appId: string }> {
  const stack = parseStackRef(rawStack);
  if (stack.kind === "local")
    throw usageError("the local stack runs on Docker: see `docker logs`; nothing to roll back");
  const { ws } = await open(deps, stack);
  const handle = await ws.select(stack.name);
  if (handle === undefined) throw new OpsError(`stack ${stack.name} does not exist`, ExitCode.failed);
  const appId = outputString(await handle.outputs(), OUTPUT.appId);
  if (appId === undefined) {
    throw new OpsError(`stack ${stack.name} has no ${OUTPUT.appId} output: it has not been deployed`, ExitCode.failed);
  }
  return { stack: stack.name, appId };
}

export async function rollback(deps: Deps, rawStack: string, options: RollbackOptions): Promise<ExitCodeValue> {
  const { stack, appId } = await stackAppId(deps, rawStack);
  return runRollback(deps, stack, appId, options);
}

export async function logs(deps: Deps, rawStack: string, options: LogsOptions): Promise<ExitCodeValue> {
  const { stack, appId } = await stackAppId(deps, rawStack);
  return runLogs(deps, stack, appId, options);
}

// ---- GitHub comments and issues ------------------------------------------------------------------------------

async function bodyFrom(deps: Deps, options: { body?: string; bodyFile?: string }): Promise<string> {
  if ((options.body === undefined) === (options.bodyFile === undefined))
    throw usageError("give exactly one of --body and --body-file");
  return options.body ?? deps.readFile(options.bodyFile as string);
}

export async function githubComment(
  deps: Deps,
  rawPr: string,
  options: { topic: string; body?: string; bodyFile?: string },
): Promise<ExitCodeValue> {
  const pr = parsePrNumber(rawPr);
  const body = await bodyFrom(deps, options);
  deps.print(`comment: ${await deps.github().upsertComment(pr, options.topic, body)}`);
  return ExitCode.ok;
}

export async function githubIssue(
  deps: Deps,
  options: { topic: string; title: string; body?: string; bodyFile?: string; label: string[]; close: boolean },
): Promise<ExitCodeValue> {
  const body = await bodyFrom(deps, options);
  const url = await deps
    .github()
    .upsertIssue(options.topic, { title: options.title, body, labels: options.label, close: options.close });
  deps.print(url === "" ? "no open issue to close" : `issue: ${url}`);
  return ExitCode.ok;
}

export interface DeploymentOptions {
  readonly state: string;
  readonly commit?: string;
  readonly url?: string;
  readonly logUrl?: string;
}

/**
 * The PR's review environment as a GitHub deployment named after its stack (`pr-42`): `success` or `failure` of a
 * deploy of `commit`, with the URL; `inactive` once it is torn down.
 */
export async function githubDeployment(deps: Deps, rawPr: string, options: DeploymentOptions): Promise<ExitCodeValue> {
  const environment = prStackName(parsePrNumber(rawPr));
  if (options.state === "inactive") {
    const count = await deps.github().deactivateDeployments(environment);
    deps.print(
      count === 0 ? `no deployment of ${environment}` : `${environment}: ${count} deployment(s) marked inactive`,
    );
    return ExitCode.ok;
  }
  if (options.state !== "success" && options.state !== "failure")
    throw usageError(`--state must be success, failure or inactive, got "${options.state}"`);
  const rawCommit = options.commit ?? (await deps.gitHead());
  if (rawCommit === undefined) throw usageError("no commit: pass --commit <sha> (not a git checkout)");
  const url = await deps.github().recordDeployment({
    environment,
    ref: parseCommit(rawCommit),
    state: options.state,
    url: options.url,
    logUrl: options.logUrl,
  });
  deps.print(`${environment}: deployment recorded (${options.state}${url === "" ? "" : `, ${url}`})`);
  return ExitCode.ok;
}
