// Verify, retry, rollback and logs, run through the command line (runCli) against the shared fake DigitalOcean API
// on 127.0.0.1 (tests/support/fake-digitalocean.ts): the real client sends real requests, the real health check
// reaches the app's live URL, and the real log download reads the archived files.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppPlatformClient } from "../../ops/app-platform";
import { ExitCode, OpsError } from "../../ops/errors";
import { globalFetch } from "../../ops/http";
import { runCli } from "../../ops/program";
import type { PulumiWorkspace, StackHandle, StackOutputs } from "../../ops/pulumi";
import type { VerifyLimits } from "../../ops/verify";
import { FAILED_PRE_DEPLOY, FakeDigitalOcean, ROLLOUT, STUCK_DEPLOYING } from "../support/fake-digitalocean";
import { FakeBackend, type TestDeps, testDeps } from "./fakes";

const APP = "5f2e9c1a-0b7d-4c3e-9a61-2d8f4b7e6a10";
const OLD = `sha256:${"a".repeat(64)}`;
const NEW = `sha256:${"b".repeat(64)}`;
const SUMMARY = "/tmp/step-summary.md";
const env = {
  CI: "true",
  PULUMI_BACKEND_URL: "s3://acme-state?endpoint=https://fra1.digitaloceanspaces.com&region=us-east-1",
  AWS_ACCESS_KEY_ID: "key",
  AWS_SECRET_ACCESS_KEY: "secret",
  PULUMI_CONFIG_PASSPHRASE: "passphrase",
  GITHUB_STEP_SUMMARY: SUMMARY,
};
/** Small bounds, so that "stuck" and "never answers" take a fraction of a second. */
const LIMITS: VerifyLimits = {
  deployTimeoutMs: 400,
  healthTimeoutMs: 400,
  pollMs: 5,
  requestTimeoutMs: 150,
  logBytes: 10_000,
  logTimeoutMs: 2_000,
};

const outputsFor = (digest: string, url: string): StackOutputs => ({
  url: { value: url, secret: false },
  appId: { value: APP, secret: false },
  imageDigest: { value: digest, secret: false },
});

let fake: FakeDigitalOcean;
beforeEach(async () => {
  fake = await FakeDigitalOcean.start();
  fake.addApp(APP, OLD);
});
afterEach(async () => {
  await fake.close();
});

/**
 * A production stack whose `up` does what the provider does (resource_app.go): when the program's digest differs
 * from the app's spec, update the spec and wait for the deployment; when it is the same, send nothing.
 */
function setup(options: { digest: string; script?: typeof ROLLOUT; token?: string }): {
  deps: TestDeps;
  backend: FakeBackend;
  summary: () => string;
} {
  const backend = new FakeBackend();
  const url = `${fake.origin}/live/${APP}`;
  backend.add("production", { outputs: outputsFor(OLD, url) });
  const base = testDeps({ backend, env });
  const appended: string[] = [];
  const wrap = (handle: StackHandle): StackHandle => ({
    ...handle,
    up: async () => {
      const stack = backend.stacks.get("production");
      if (stack && fake.specDigest(APP) !== options.digest) {
        const id = fake.updateSpec(APP, options.digest, options.script ?? ROLLOUT);
        if (fake.phaseOf(APP, id) === "ERROR") {
          stack.failWith = {
            op: "up",
            error: new OpsError("pulumi up of stack production failed: error: error deploying app", ExitCode.failed),
          };
        }
      }
      const result = await handle.up();
      if (stack) stack.outputs = outputsFor(options.digest, url);
      return { ...result, ...outputsFor(options.digest, url) };
    },
  });
  const deps: TestDeps = {
    ...base,
    openWorkspace: async (settings) => {
      const ws: PulumiWorkspace = await base.openWorkspace(settings);
      return {
        ...ws,
        createOrSelect: async (name) => wrap(await ws.createOrSelect(name)),
        select: async (name) => {
          const h = await ws.select(name);
          return h && wrap(h);
        },
      };
    },
    appendFile: async (_file, content) => {
      appended.push(content);
    },
    deployments: {
      api: () => new AppPlatformClient(options.token ?? fake.token, globalFetch, fake.api),
      fetch: globalFetch,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      nowMs: () => Date.now(),
      limits: LIMITS,
    },
  };
  return { deps, backend, summary: () => appended.join("") };
}

describe("ops up on a DigitalOcean stack: verification", () => {
  it("checks that the active deployment carries the new digest, is ACTIVE, and that /health_check answers 200", async () => {
    const { deps, summary } = setup({ digest: NEW });
    expect(await runCli(["up", "production"], deps)).toBe(ExitCode.ok);
    expect(fake.activeDigest(APP)).toBe(NEW);
    const out = deps.out.join("\n");
    expect(out).toMatch(/ok {5}deployment [0-9a-f-]{36} is ACTIVE: carries sha256:b{64}/);
    expect(out).toContain(`ok     /health_check answers 200: ${fake.origin}/live/${APP}/health_check`);
    expect(summary()).toContain("### Deploy of `production` verified");
    expect(summary()).toContain("### Deployed `production`");
    // Verification reads; it deploys nothing when the deployment is already the stack's.
    expect(fake.requests.filter((r) => r.startsWith("POST"))).toEqual([]);
  });

  it("fails with exit 1 naming ERROR and the migrate job when the PRE_DEPLOY job fails, and prints its logs", async () => {
    fake.logLines.set("*/migrate/DEPLOY", 'migrate | error: relation "subscriptions" already exists\n');
    fake.logLines.set("*/web/RUN", "web | listening on 0.0.0.0:8000\n");
    const { deps, summary } = setup({ digest: NEW, script: FAILED_PRE_DEPLOY });
    expect(await runCli(["up", "production"], deps)).toBe(ExitCode.failed);
    const errors = deps.errors.join("\n");
    expect(errors).toMatch(
      /the newest deployment [0-9a-f-]{36} is ERROR at Running pre-deploy job: Your job exited with a non-zero code \[phase ERROR\] \[component migrate\]/,
    );
    expect(errors).toContain('---- migrate DEPLOY logs ----\nmigrate | error: relation "subscriptions" already exists');
    expect(errors).toContain("---- web RUN logs ----\nweb | listening on 0.0.0.0:8000");
    expect(summary()).toContain("### Deploy of `production` failed: ERROR in `migrate`");
    expect(summary()).toContain("<details><summary>migrate: DEPLOY logs</summary>");
    expect(fake.activeDigest(APP)).toBe(OLD);
  });

  it("deploys again on the next `up` after a failure, although the spec did not change", async () => {
    const first = setup({ digest: NEW, script: FAILED_PRE_DEPLOY });
    expect(await runCli(["up", "production"], first.deps)).toBe(ExitCode.failed);
    expect(fake.activeDigest(APP)).toBe(OLD);
    const failed = fake.deploymentIds(APP).length;

    // The fix was outside the image (the database, a setting): the spec is the same, so the provider sends nothing.
    const second = setup({ digest: NEW });
    expect(await runCli(["up", "production"], second.deps)).toBe(ExitCode.ok);
    expect(fake.deploymentIds(APP)).toHaveLength(failed + 1);
    expect(fake.requests).toContain(`POST /v2/apps/${APP}/deployments`);
    expect(fake.bodies).toContainEqual({ route: `POST /v2/apps/${APP}/deployments`, body: { force_build: false } });
    expect(fake.activeDigest(APP)).toBe(NEW);
    expect(second.deps.out.join("\n")).toMatch(
      /the active deployment [0-9a-f-]{36} runs sha256:a{64}, not the stack's sha256:b{64}: deploying the spec again/,
    );
  });

  it("gives up on a deployment stuck in a phase past its bound, naming the phase and the component", async () => {
    const first = setup({ digest: NEW, script: FAILED_PRE_DEPLOY });
    await runCli(["up", "production"], first.deps);
    fake.scriptNext(APP, STUCK_DEPLOYING);
    const second = setup({ digest: NEW });
    const started = Date.now();
    expect(await runCli(["up", "production"], second.deps)).toBe(ExitCode.failed);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(second.deps.errors.join("\n")).toMatch(
      /deployment [0-9a-f-]{36} is still DEPLOYING after 400 ms, at Deploying service \(web\) \[phase DEPLOYING\] \[component web\]/,
    );
  });

  it("fails when the live URL never answers, within the health check's bound", async () => {
    fake.setHealth(APP, "silent");
    const { deps, summary } = setup({ digest: NEW });
    const started = Date.now();
    expect(await runCli(["up", "production"], deps)).toBe(ExitCode.failed);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(deps.errors.join("\n")).toContain(
      `${fake.origin}/live/${APP}/health_check did not answer 200 within 400 ms (last: no answer within 150 ms) [phase ACTIVE] [component web]`,
    );
    expect(summary()).toContain("### Deploy of `production` failed: ACTIVE in `web`");
  });

  it("fails when the live URL answers with an error", async () => {
    fake.setHealth(APP, "failing");
    const { deps } = setup({ digest: NEW });
    expect(await runCli(["up", "production"], deps)).toBe(ExitCode.failed);
    expect(deps.errors.join("\n")).toContain("(last: 503)");
  });

  it("reports the API's error body (id, message, request id) with exit 1", async () => {
    const { deps } = setup({ digest: NEW, token: "dop_v1_wrong" });
    expect(await runCli(["up", "production"], deps)).toBe(ExitCode.failed);
    expect(deps.errors.join("\n")).toMatch(
      /DigitalOcean API GET \/apps\/[0-9a-f-]+ answered 401: unauthorized: Unable to authenticate you\. \(request [0-9a-f-]{36}\)/,
    );
  });
});

describe("ops rollback", () => {
  async function deployedTwice(): Promise<TestDeps> {
    const { deps } = setup({ digest: NEW });
    expect(await runCli(["up", "production"], deps)).toBe(ExitCode.ok);
    return deps;
  }

  it("returns to the previous good deployment, verifies it, and holds the app there until --commit", async () => {
    const deps = await deployedTwice();
    const [, previous] = fake.deploymentIds(APP);
    expect(await runCli(["rollback", "production"], deps)).toBe(ExitCode.ok);
    expect(fake.bodies).toContainEqual({
      route: `POST /v2/apps/${APP}/rollback/validate`,
      body: { deployment_id: previous },
    });
    expect(fake.bodies).toContainEqual({
      route: `POST /v2/apps/${APP}/rollback`,
      body: { deployment_id: previous, skip_pin: false },
    });
    expect(fake.activeDigest(APP)).toBe(OLD);
    expect(fake.isPinned(APP)).toBe(true);
    expect(deps.out.join("\n")).toContain("`ops up production` refuses until `ops rollback production --commit`");

    // The next `up` neither undoes the rollback nor fails half-way: it refuses before Pulumi runs.
    const again = setup({ digest: NEW });
    expect(await runCli(["up", "production"], again.deps)).toBe(ExitCode.failed);
    expect(again.deps.errors.join("\n")).toContain(
      `stack production is rolled back to deployment ${fake.deploymentIds(APP)[0]} (image ${OLD})`,
    );
    expect(again.backend.calls).not.toContain("up production");
    expect(fake.activeDigest(APP)).toBe(OLD);

    expect(await runCli(["rollback", "production", "--commit"], deps)).toBe(ExitCode.ok);
    expect(fake.isPinned(APP)).toBe(false);
    expect(fake.requests).toContain(`POST /v2/apps/${APP}/rollback/commit`);
  });

  it("rolls back to the deployment that ran a given digest, and --revert returns to the version before", async () => {
    const deps = await deployedTwice();
    expect(await runCli(["rollback", "production", "--to", OLD], deps)).toBe(ExitCode.ok);
    expect(fake.activeDigest(APP)).toBe(OLD);
    expect(await runCli(["rollback", "production", "--revert"], deps)).toBe(ExitCode.ok);
    expect(fake.activeDigest(APP)).toBe(NEW);
    expect(fake.isPinned(APP)).toBe(false);
  });

  it("refuses a failed deployment as the target, with App Platform's reason", async () => {
    const first = setup({ digest: NEW, script: FAILED_PRE_DEPLOY });
    await runCli(["up", "production"], first.deps);
    const [failedId] = fake.deploymentIds(APP);
    expect(await runCli(["rollback", "production", "--to", failedId as string], first.deps)).toBe(ExitCode.failed);
    expect(first.deps.errors.join("\n")).toContain(
      `App Platform refuses the rollback to deployment ${failedId}: incompatible_result: deployment result "failed" is unsuitable for rollback`,
    );
    expect(fake.isPinned(APP)).toBe(false);
  });

  it("names a digest no recent deployment ran", async () => {
    const { deps } = setup({ digest: NEW });
    expect(await runCli(["rollback", "production", "--to", `sha256:${"c".repeat(64)}`], deps)).toBe(ExitCode.failed);
    expect(deps.errors.join("\n")).toContain(`no deployment among the last 1 served sha256:${"c".repeat(64)}`);
  });
});

describe("ops logs", () => {
  it("prints a component's logs of the active deployment, of the type asked for", async () => {
    fake.logLines.set("*/migrate/DEPLOY", "applied 0 migrations\n");
    const { deps } = setup({ digest: OLD });
    expect(await runCli(["logs", "production", "--component", "migrate", "--type", "deploy"], deps)).toBe(ExitCode.ok);
    expect(deps.out).toContain("applied 0 migrations");
    expect(fake.requests).toContain(`GET /v2/apps/${APP}/components/migrate/logs?type=DEPLOY&follow=false`);
  });

  it("says so when there are none, and refuses an unknown type", async () => {
    const { deps } = setup({ digest: OLD });
    expect(await runCli(["logs", "production"], deps)).toBe(ExitCode.ok);
    expect(deps.out.join("\n")).toContain("production: no run logs for web in the active deployment");
    expect(await runCli(["logs", "production", "--type", "audit"], deps)).toBe(ExitCode.usage);
    expect(deps.errors.join("\n")).toContain("--type must be one of build, deploy, run");
  });
});

describe("ops rollback --help and ops logs --help", () => {
  it("describe the commands, their options and what a rollback does to the schema", async () => {
    const deps = testDeps();
    expect(await runCli(["rollback", "--help"], deps)).toBe(ExitCode.ok);
    const rollback = deps.out.join("\n");
    expect(rollback).toContain("Usage: ops rollback [options] <stack>");
    expect(rollback).toContain("--to <deployment>");
    expect(rollback).toContain("--commit");
    expect(rollback).toContain("migrations only go forward");
    const logs = testDeps();
    expect(await runCli(["logs", "--help"], logs)).toBe(ExitCode.ok);
    expect(logs.out.join("\n")).toContain("--type <type>");
    expect(logs.out.join("\n")).toContain("--component <name>");
  });
});
