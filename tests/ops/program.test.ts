import { describe, expect, it } from "vitest";
import { ExitCode, OpsError } from "../../ops/errors";
import { marker } from "../../ops/github";
import { runCli } from "../../ops/program";
import { toTagMap } from "../../ops/tags";
import {
  FakeBackend,
  FakeCloud,
  FakeGitHub,
  failing,
  LOCAL_CONTAINERS,
  localEngine,
  localOutputs,
  missing,
  testDeps,
} from "./fakes";

const HOUR = 3_600_000;
const NOW = new Date("2026-11-25T12:00:00.000Z");
const ago = (h: number) => new Date(NOW.getTime() - h * HOUR);
const cloudEnv = {
  CI: "true",
  PULUMI_BACKEND_URL: "s3://acme-state?endpoint=https://fra1.digitaloceanspaces.com&region=us-east-1",
  AWS_ACCESS_KEY_ID: "key",
  AWS_SECRET_ACCESS_KEY: "secret",
  PULUMI_CONFIG_PASSPHRASE: "passphrase",
};
const outputs = {
  url: { value: "https://newsletter-pr-42-abc.ondigitalocean.app", secret: false },
  estimatedMonthlyCostUsd: { value: 12, secret: false },
};
const REPOSITORY = "registry.digitalocean.com/acme/newsletter";
/** What a PR stack deployed since infra/index.ts exports `imageRepository` reports. */
const pushed = { imageRepository: { value: REPOSITORY, secret: false } };

describe("ops command line", () => {
  it("prints usage with the exit codes for --help and exits 0", async () => {
    const deps = testDeps();
    expect(await runCli(["--help"], deps)).toBe(ExitCode.ok);
    const text = deps.out.join("\n");
    expect(text).toContain("Usage: ops [options] [command]");
    expect(text).toContain("3  a prerequisite is missing");
  });

  it.each([
    [["frobnicate"], "error: unknown command 'frobnicate'"],
    [["preview"], "error: missing required argument 'stack'"],
    [["preview", "production", "--frob"], "error: unknown option '--frob'"],
    [["review", "down", "1", "2"], "error: too many arguments for 'down'. Expected 1 argument but got 2."],
    [["github", "comment", "4"], "error: required option '--topic <topic>' not specified"],
  ])("rejects %j with a clear error and exit code 2", async (argv, message) => {
    const deps = testDeps();
    expect(await runCli(argv, deps)).toBe(ExitCode.usage);
    expect(deps.errors[0]).toBe(message);
  });

  it.each([
    [["preview", "prod"], 'error: invalid stack "prod": expected "production", "local" or "pr-<number>" (e.g. pr-42)'],
    [["up", "pr-0"], 'error: invalid stack "pr-0": expected "production", "local" or "pr-<number>" (e.g. pr-42)'],
    [["review", "up", "abc"], 'error: invalid pull request number "abc": expected a positive integer such as 42'],
    [["review", "down", "-1"], 'error: invalid pull request number "-1": expected a positive integer such as 42'],
    [
      ["review", "up", "4", "--ttl", "forever"],
      'error: invalid time to live "forever": expected a number and a unit m, h or d, such as 72h or 7d',
    ],
    [["up", "pr-4"], "error: per-PR stacks are deployed with `review up 4`, which also tags them for the reaper"],
    [["destroy", "production"], "error: destroying stack production deletes its cloud resources: add --yes to confirm"],
    [
      ["review", "reap", "--open-prs", "3,x"],
      'error: invalid pull request number "x": expected a positive integer such as 42',
    ],
    [
      ["github", "comment", "4", "--topic", "t", "--body", "a", "--body-file", "b"],
      "error: give exactly one of --body and --body-file",
    ],
  ])("rejects %j before running anything (exit 2)", async (argv, message) => {
    const backend = new FakeBackend();
    const deps = testDeps({ backend, env: cloudEnv, head: "abc1234" });
    expect(await runCli(argv, deps)).toBe(ExitCode.usage);
    expect(deps.errors).toEqual([message]);
    expect(backend.calls).toEqual([]);
    expect(backend.settings).toEqual([]);
  });
});

describe("up local / destroy local", () => {
  it("deploys the local stack from the repository's file backend and prints the URL once the app is healthy", async () => {
    const backend = new FakeBackend();
    const deps = testDeps({ backend, engine: localEngine() });
    backend.add("local", { outputs: localOutputs(), config: { "newsletter:localPostgresPassword": "set-before" } });
    expect(await runCli(["up", "local"], deps)).toBe(ExitCode.ok);
    expect(deps.probeCalls).toEqual(["pulumi", "docker", "docker inspect"]);
    expect(deps.dirs).toEqual(["/repo/.pulumi-state"]);
    expect(backend.settings[0]).toMatchObject({
      workDir: "/repo",
      secretsProvider: "passphrase",
      envVars: { PULUMI_BACKEND_URL: "file:///repo/.pulumi-state", PULUMI_CONFIG_PASSPHRASE: "newsletter-local-only" },
    });
    expect(backend.calls).toEqual(["up local"]);
    expect(deps.out).toContain("URL: http://127.0.0.1:8000");
    expect(deps.stepOutputs).toEqual({ url: "http://127.0.0.1:8000" });
  });

  it("creates the local stack on the first run, with a generated Postgres password kept as a stack secret", async () => {
    const backend = new FakeBackend();
    backend.createWith = { outputs: localOutputs() };
    const deps = testDeps({ backend, engine: localEngine() });
    expect(await runCli(["up", "local"], deps)).toBe(ExitCode.ok);
    expect(backend.calls).toEqual(["create local", "config set --secret newsletter:localPostgresPassword", "up local"]);
    const file = backend.stackFiles.get("local");
    const password = file?.config["newsletter:localPostgresPassword"] ?? "";
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(file?.secretKeys).toEqual(["newsletter:localPostgresPassword"]);
    expect(deps.out.join("\n")).not.toContain(password);
  });

  it("previews a fresh local stack too: the password it needs is generated first", async () => {
    const backend = new FakeBackend();
    expect(await runCli(["preview", "local"], testDeps({ backend }))).toBe(ExitCode.ok);
    expect(backend.calls).toEqual([
      "create local",
      "config set --secret newsletter:localPostgresPassword",
      "preview local",
    ]);
  });

  it("keeps the local Postgres password of an earlier run: the data volume was initialised with it", async () => {
    const backend = new FakeBackend();
    backend.add("local", { outputs: localOutputs(), config: { "newsletter:localPostgresPassword": "chosen-earlier" } });
    expect(await runCli(["up", "local"], testDeps({ backend, engine: localEngine() }))).toBe(ExitCode.ok);
    expect(backend.calls).toEqual(["up local"]);
    expect(backend.stackFiles.get("local")?.config["newsletter:localPostgresPassword"]).toBe("chosen-earlier");
  });

  it("fails, exit 1, when the app is not healthy after an update, not only after a create", async () => {
    const backend = new FakeBackend();
    backend.add("local", { outputs: localOutputs(), config: { "newsletter:localPostgresPassword": "chosen-earlier" } });
    const deps = testDeps({ backend, engine: localEngine("unhealthy") });
    expect(await runCli(["up", "local"], deps)).toBe(ExitCode.failed);
    expect(deps.errors).toEqual([
      `error: the app container ${LOCAL_CONTAINERS.app} is not healthy after the update (running, health unhealthy): ` +
        `see \`docker logs ${LOCAL_CONTAINERS.app}\``,
    ]);
  });

  it("waits for an app that is still starting, once a second, and gives up after two minutes", async () => {
    const backend = new FakeBackend();
    backend.add("local", { outputs: localOutputs(), config: { "newsletter:localPostgresPassword": "p" } });
    const deps = testDeps({ backend, engine: localEngine("starting") });
    expect(await runCli(["up", "local"], deps)).toBe(ExitCode.failed);
    expect(deps.probeCalls.filter((c) => c === "docker inspect")).toHaveLength(120);
    expect(deps.errors[0]).toContain("(running, health starting)");
  });

  it("refuses to generate a password for a data volume that already holds one, and says how to reconcile", async () => {
    const backend = new FakeBackend();
    const engine = localEngine();
    engine.volumes[LOCAL_CONTAINERS.volume] = { initialisedWith: "lost-with-the-stack-file" };
    const deps = testDeps({ backend, engine });
    expect(await runCli(["up", "local"], deps)).toBe(ExitCode.failed);
    expect(backend.calls).toEqual(["create local"]);
    expect(deps.errors[0]).toBe(
      "error: The Docker volume newsletter-local-pgdata holds the local stack's Postgres data, initialised with a " +
        "password that Pulumi.local.yaml no longer has. Put that password back with `pulumi config set --secret " +
        "localPostgresPassword <password> --stack local`, or delete the data with `docker volume rm " +
        "newsletter-local-pgdata`, then run this again.",
    );
  });

  it("names a stopped Docker engine and a missing Pulumi CLI with their fixes, exit 3, and touches nothing", async () => {
    const backend = new FakeBackend();
    const deps = testDeps({
      backend,
      probe: {
        pulumi: missing,
        docker: failing("Cannot connect to the Docker daemon at unix:///var/run/docker.sock."),
      },
    });
    expect(await runCli(["up", "local"], deps)).toBe(ExitCode.prerequisite);
    expect(deps.errors).toHaveLength(1);
    expect(deps.errors[0]).toMatch(
      /^error: Missing prerequisites:\n {2}- The Pulumi CLI is not installed .*get\.pulumi\.com.*\n {2}- The Docker engine is not running .*Cannot connect to the Docker daemon.*start Docker Desktop/s,
    );
    expect(deps.errors[0]).not.toMatch(/\bat \S+ \(/); // no stack trace
    expect(backend.settings).toEqual([]);
  });

  // The docker provider pings the daemon when it is configured, before any step of any operation
  // (pulumi/pulumi-docker provider/provider.go, Configure → configureDockerClient(config, true)).
  it.each([
    [["up", "production"]],
    [["preview", "production"]],
    [["drift", "production"]],
    [["destroy", "production", "--yes"]],
    [["review", "down", "42"]],
    [["review", "reap", "--open-prs", "1"]],
  ])("asks for a running Docker engine for %j too (exit 3, nothing ran)", async (argv) => {
    const backend = new FakeBackend();
    backend.add("production");
    const deps = testDeps({ backend, env: cloudEnv, probe: { docker: missing } });
    expect(await runCli(argv, deps)).toBe(ExitCode.prerequisite);
    expect(deps.errors[0]).toMatch(/^error: Missing prerequisites:\n {2}- Docker is not installed/);
    expect(backend.settings).toEqual([]);
  });

  it("destroys the local stack without --yes, and succeeds when it was never created", async () => {
    const backend = new FakeBackend();
    const deps = testDeps({ backend });
    expect(await runCli(["destroy", "local"], deps)).toBe(ExitCode.ok);
    expect(deps.out).toContain("stack local does not exist: nothing to destroy");
    backend.add("local");
    expect(await runCli(["destroy", "local"], deps)).toBe(ExitCode.ok);
    expect(backend.calls).toEqual(["destroy local"]);
  });

  it("removes the local stack but keeps Pulumi.local.yaml: the password of the data volume it keeps", async () => {
    const backend = new FakeBackend();
    backend.add("local", { config: { "newsletter:localPostgresPassword": "opens-the-volume" } });
    const deps = testDeps({ backend });
    expect(await runCli(["destroy", "local", "--remove", "--yes"], deps)).toBe(ExitCode.ok);
    expect(backend.calls).toEqual(["destroy local --remove --preserve-config"]);
    expect(backend.stacks.has("local")).toBe(false);
    expect(backend.stackFiles.get("local")?.config).toEqual({ "newsletter:localPostgresPassword": "opens-the-volume" });
  });
});

describe("review up", () => {
  it("tags the new stack before deploying it and writes the PR comment with URL and cost", async () => {
    const backend = new FakeBackend();
    backend.createWith = { outputs };
    const deps = testDeps({ backend, env: cloudEnv, now: NOW });
    const code = await runCli(
      ["review", "up", "42", "--commit", "ABCDEF1234567", "--ttl", "48h", "--summary-file", "comment.md"],
      deps,
    );
    expect(code).toBe(ExitCode.ok);
    expect(backend.calls).toEqual([
      "create pr-42",
      "tag pr-42 review:pr,review:created-at,review:ttl,review:commit,review:deployed-at",
      "up pr-42",
    ]);
    expect(backend.stacks.get("pr-42")?.tags).toEqual(
      toTagMap({ pr: 42, createdAt: NOW, ttlMs: 48 * HOUR, commit: "abcdef1234567", deployedAt: NOW }),
    );
    expect(deps.files.get("comment.md")).toBe(
      [
        "### Review environment for PR #42: `pr-42`",
        "",
        "**URL:** https://newsletter-pr-42-abc.ondigitalocean.app",
        "**Estimated cost:** $12.00 per month, DigitalOcean list prices (infra/prices.ts)",
        "",
        "Deployed commit `abcdef123456`. Every push redeploys it. It is destroyed when this PR closes, or by the reaper after 2d without a deploy (the next push creates it again).",
        "",
      ].join("\n"),
    );
  });

  it("keeps the creation time of an existing stack and takes the commit from the checkout by default", async () => {
    const backend = new FakeBackend();
    const created = ago(50);
    backend.add("pr-42", {
      tags: toTagMap({ pr: 42, createdAt: created, ttlMs: 72 * HOUR, commit: "1111111", deployedAt: ago(20) }),
    });
    expect(
      await runCli(["review", "up", "42"], testDeps({ backend, env: cloudEnv, now: NOW, head: "2222222aaa" })),
    ).toBe(ExitCode.ok);
    expect(backend.stacks.get("pr-42")?.tags).toEqual(
      toTagMap({ pr: 42, createdAt: created, ttlMs: 72 * HOUR, commit: "2222222aaa", deployedAt: NOW }),
    );
  });

  it("stops before deploying when the backend does not keep stack tags (exit 3)", async () => {
    const backend = new FakeBackend();
    backend.dropTags = true;
    const deps = testDeps({ backend, env: cloudEnv, head: "abc1234" });
    expect(await runCli(["review", "up", "42"], deps)).toBe(ExitCode.prerequisite);
    expect(backend.calls).not.toContain("up pr-42");
    expect(deps.errors[0]).toMatch(/did not keep the stack tags.*3\.211\.0/);
  });

  it("requires a Pulumi CLI that stores stack tags on a self-managed backend", async () => {
    const deps = testDeps({
      env: cloudEnv,
      head: "abc1234",
      probe: { pulumi: { missing: false, exitCode: 0, stdout: "v3.190.0", stderr: "" } },
    });
    expect(await runCli(["review", "up", "42"], deps)).toBe(ExitCode.prerequisite);
    expect(deps.errors[0]).toMatch(/The Pulumi CLI is v3\.190\.0, older than 3\.211\.0/);
  });

  it("names missing backend credentials in CI (exit 3)", async () => {
    const deps = testDeps({ env: { CI: "true", PULUMI_BACKEND_URL: cloudEnv.PULUMI_BACKEND_URL }, head: "abc1234" });
    expect(await runCli(["review", "up", "42"], deps)).toBe(ExitCode.prerequisite);
    expect(deps.errors[0]).toMatch(/needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY .* and PULUMI_CONFIG_PASSPHRASE/);
  });

  it("turns a failed update into exit 1 with Pulumi's error line", async () => {
    const backend = new FakeBackend();
    backend.add("pr-42", {
      failWith: {
        op: "up",
        error: new OpsError("pulumi up of stack pr-42 failed: error: 1 error occurred", ExitCode.failed),
      },
    });
    const deps = testDeps({ backend, env: cloudEnv, head: "abc1234" });
    expect(await runCli(["review", "up", "42"], deps)).toBe(ExitCode.failed);
    expect(deps.errors).toEqual(["error: pulumi up of stack pr-42 failed: error: 1 error occurred"]);
  });
});

describe("review down and destroy --remove", () => {
  it("succeeds when the PR's stack never existed, and tells the workflow so (no 'destroyed' comment)", async () => {
    const backend = new FakeBackend();
    const deps = testDeps({ backend, env: cloudEnv });
    expect(await runCli(["review", "down", "42"], deps)).toBe(ExitCode.ok);
    expect(deps.stepOutputs).toEqual({ existed: "false" });
    expect(await runCli(["destroy", "pr-42", "--yes", "--remove"], deps)).toBe(ExitCode.ok);
    expect(deps.out.filter((line) => line.includes("nothing to destroy"))).toHaveLength(2);
    expect(backend.calls).toEqual([]);
  });

  it("destroys the resources and removes the stack", async () => {
    const backend = new FakeBackend();
    backend.add("pr-42");
    const deps = testDeps({ backend, env: cloudEnv });
    expect(await runCli(["review", "down", "42"], deps)).toBe(ExitCode.ok);
    expect(deps.stepOutputs).toEqual({ existed: "true" });
    expect(backend.calls).toEqual(["destroy pr-42 --remove"]);
    expect(backend.stacks.has("pr-42")).toBe(false);
  });

  it("reports a locked stack with exit 5 so CI can retry, and keeps its image tags", async () => {
    const backend = new FakeBackend();
    backend.add("pr-42", {
      outputs: pushed,
      failWith: { op: "destroy", error: new OpsError("locked", ExitCode.locked) },
    });
    const cloud = new FakeCloud().withTags("acme/newsletter", ["pr-42-abc"]);
    expect(await runCli(["review", "down", "42"], testDeps({ backend, env: cloudEnv, cloud }))).toBe(ExitCode.locked);
    expect(cloud.deletedTags).toEqual([]);
  });
});

describe("review down: the PR's image tags", () => {
  const tags = ["pr-4-aaa111", "pr-4-bbb222", "pr-42-aaa111", "pr-40-ccc333", "production-aaa111", "xpr-4-aaa111"];

  it("deletes exactly the PR's tags (pr-4-*, not pr-42-*) from the repository the stack exported", async () => {
    const backend = new FakeBackend();
    backend.add("pr-4", { outputs: { ...outputs, ...pushed } });
    const cloud = new FakeCloud().withTags("acme/newsletter", tags);
    const deps = testDeps({ backend, env: cloudEnv, cloud });
    expect(await runCli(["review", "down", "4"], deps)).toBe(ExitCode.ok);
    // The outputs were read before the destroy: the fake's stack is gone afterwards.
    expect(backend.calls).toEqual(["destroy pr-4 --remove"]);
    expect(cloud.deletedTags).toEqual(["acme/newsletter:pr-4-aaa111", "acme/newsletter:pr-4-bbb222"]);
    expect(cloud.repositories.get("acme/newsletter")).toEqual([
      "pr-42-aaa111",
      "pr-40-ccc333",
      "production-aaa111",
      "xpr-4-aaa111",
    ]);
    expect(deps.out).toContain(`pr-4: deleted 2 image tags pr-4-* from ${REPOSITORY}`);
    expect(deps.errors).toEqual([]);
  });

  it("says so when the PR pushed no tags", async () => {
    const backend = new FakeBackend();
    backend.add("pr-7", { outputs: pushed });
    const cloud = new FakeCloud().withTags("acme/newsletter", tags);
    const deps = testDeps({ backend, env: cloudEnv, cloud });
    expect(await runCli(["review", "down", "7"], deps)).toBe(ExitCode.ok);
    expect(cloud.deletedTags).toEqual([]);
    expect(deps.out).toContain(`pr-7: no image tags pr-7-* in ${REPOSITORY}`);
  });

  it("warns and succeeds when the stack predates the imageRepository output", async () => {
    const backend = new FakeBackend();
    backend.add("pr-4", { outputs });
    const cloud = new FakeCloud().withTags("acme/newsletter", tags);
    const deps = testDeps({ backend, env: cloudEnv, cloud });
    expect(await runCli(["review", "down", "4"], deps)).toBe(ExitCode.ok);
    expect(backend.stacks.has("pr-4")).toBe(false);
    expect(cloud.deletedTags).toEqual([]);
    expect(deps.errors).toEqual([
      "pr-4: destroyed, but image tags pr-4-* left in the registry: the stack has no imageRepository output " +
        "(deployed before it existed); delete them with `doctl registry repository delete-tag`",
    ]);
  });

  it("warns and succeeds without DIGITALOCEAN_TOKEN, naming the repository the tags are left in", async () => {
    const backend = new FakeBackend();
    backend.add("pr-4", { outputs: pushed });
    const deps = testDeps({ backend, env: cloudEnv });
    expect(await runCli(["review", "down", "4"], deps)).toBe(ExitCode.ok);
    expect(backend.stacks.has("pr-4")).toBe(false);
    expect(deps.errors).toEqual([
      `pr-4: destroyed, but image tags pr-4-* left in ${REPOSITORY}: DIGITALOCEAN_TOKEN is not set`,
    ]);
  });

  it("warns and succeeds when a tag can't be deleted, naming the tags that are left", async () => {
    const backend = new FakeBackend();
    backend.add("pr-4", { outputs: pushed });
    const cloud = new FakeCloud().withTags("acme/newsletter", tags);
    cloud.refuseTags.add("pr-4-aaa111");
    const deps = testDeps({ backend, env: cloudEnv, cloud });
    expect(await runCli(["review", "down", "4"], deps)).toBe(ExitCode.ok);
    expect(cloud.deletedTags).toEqual(["acme/newsletter:pr-4-aaa111", "acme/newsletter:pr-4-bbb222"]);
    expect(deps.errors).toEqual([
      `pr-4: destroyed, but image tags pr-4-* left in ${REPOSITORY}: deleted 1 of 2; not deleted: pr-4-aaa111 ` +
        "(DigitalOcean API DELETE /registries/acme/newsletter/tags/pr-4-aaa111 answered 403)",
    ]);
  });

  it("leaves the image tags of `destroy pr-<n>` alone: only the PR teardowns delete them", async () => {
    const backend = new FakeBackend();
    backend.add("pr-4", { outputs: pushed });
    const cloud = new FakeCloud().withTags("acme/newsletter", tags);
    const deps = testDeps({ backend, env: cloudEnv, cloud });
    expect(await runCli(["destroy", "pr-4", "--yes", "--remove"], deps)).toBe(ExitCode.ok);
    expect(cloud.deletedTags).toEqual([]);
  });
});

describe("preview", () => {
  const step = (op: string, type: string, name: string) => ({
    op,
    type,
    urn: `urn:pulumi:production::newsletter::${type}::${name}`,
  });

  it("writes the PR comment summary and prints the counts", async () => {
    const backend = new FakeBackend();
    backend.add("production", {
      steps: [
        step("update", "digitalocean:index/app:App", "app"),
        step("replace", "digitalocean:index/databaseCluster:DatabaseCluster", "db"),
      ],
      stdout: "~ digitalocean:index/app:App app update",
    });
    const deps = testDeps({ backend, env: cloudEnv, head: "abc1234" });
    expect(await runCli(["preview", "production", "--diff", "--summary-file", "preview.md"], deps)).toBe(ExitCode.ok);
    expect(backend.calls).toEqual(["preview production --diff"]);
    expect(deps.out).toContain("**0 to create · 1 to update · 1 to replace · 0 to delete** · 0 unchanged");
    expect(deps.errors).toEqual([
      "stateful resource will be replaced: db (digitalocean:index/databaseCluster:DatabaseCluster)",
    ]);
    const summary = deps.files.get("preview.md") ?? "";
    expect(summary).toContain("> [!CAUTION]");
    expect(summary).toContain("~ digitalocean:index/app:App app update");
    expect(summary).toContain("Previewed at commit `abc1234`");
  });

  it("exits 4 with --expect-no-changes when there are changes, 0 when there are none", async () => {
    const backend = new FakeBackend();
    const stack = backend.add("production", { steps: [step("update", "digitalocean:index/app:App", "app")] });
    const deps = testDeps({ backend, env: cloudEnv });
    expect(await runCli(["preview", "production", "--expect-no-changes"], deps)).toBe(ExitCode.changes);
    stack.steps = [step("same", "digitalocean:index/app:App", "app")];
    expect(await runCli(["preview", "production", "--expect-no-changes"], deps)).toBe(ExitCode.ok);
  });

  it("does not create a PR stack just to preview it", async () => {
    const backend = new FakeBackend();
    const deps = testDeps({ backend, env: cloudEnv });
    expect(await runCli(["preview", "pr-9"], deps)).toBe(ExitCode.failed);
    expect(deps.errors).toEqual(["error: stack pr-9 does not exist: `review up 9` creates it"]);
    expect(backend.stacks.size).toBe(0);
  });
});

describe("drift", () => {
  it("exits 4 and writes the issue body when the refresh preview finds changes", async () => {
    const backend = new FakeBackend();
    backend.add("production", {
      changeSummary: { same: 5, update: 1 },
      steps: [
        {
          op: "refresh",
          type: "digitalocean:index/app:App",
          urn: "urn:pulumi:production::newsletter::digitalocean:index/app:App::app",
          diffs: ["spec"],
        },
      ],
      stdout: "~ app: spec.services[0].instanceCount 1 => 2",
    });
    const env = {
      ...cloudEnv,
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_REPOSITORY: "acme/newsletter",
      GITHUB_RUN_ID: "99",
    };
    const deps = testDeps({ backend, env });
    expect(await runCli(["drift", "production", "--report-file", "drift.md"], deps)).toBe(ExitCode.changes);
    expect(backend.calls).toEqual(["refresh --preview-only production"]);
    const report = deps.files.get("drift.md") ?? "";
    expect(report).toContain("**1 to update**");
    expect(report).toContain("- `app (digitalocean:index/app:App)`");
    expect(report).toContain("Found by https://github.com/acme/newsletter/actions/runs/99.");
  });

  it("exits 0 and writes nothing without drift", async () => {
    const backend = new FakeBackend();
    backend.add("production", { changeSummary: { same: 6 } });
    const deps = testDeps({ backend, env: cloudEnv });
    expect(await runCli(["drift", "production", "--report-file", "drift.md"], deps)).toBe(ExitCode.ok);
    expect(deps.files.has("drift.md")).toBe(false);
  });
});

describe("review reap", () => {
  function reaperBackend(): FakeBackend {
    const backend = new FakeBackend();
    const tagged = (pr: number, deployedHoursAgo: number) =>
      toTagMap({
        pr,
        createdAt: ago(deployedHoursAgo + 1),
        ttlMs: 72 * HOUR,
        commit: "abc1234",
        deployedAt: ago(deployedHoursAgo),
      });
    backend.add("production", { lastUpdate: ago(2000).toISOString() });
    backend.add("local");
    backend.add("pr-4", { tags: tagged(4, 1), outputs: pushed }); // PR closed
    backend.add("pr-5", { tags: tagged(5, 1), outputs: pushed }); // open, fresh
    backend.add("pr-6", { tags: tagged(6, 100), outputs: pushed }); // open, expired
    return backend;
  }
  const registryTags = () =>
    new FakeCloud().withTags("acme/newsletter", [
      "pr-4-aaa111",
      "pr-5-aaa111",
      "pr-6-aaa111",
      "pr-6-bbb222",
      "pr-42-x",
    ]);

  it("destroys the stacks of closed PRs and expired ones, keeps the rest, and reports", async () => {
    const backend = reaperBackend();
    const deps = testDeps({ backend, env: cloudEnv, now: NOW });
    expect(await runCli(["review", "reap", "--open-prs", "5,6", "--summary-file", "reap.md"], deps)).toBe(ExitCode.ok);
    expect(backend.calls).toEqual(["destroy pr-4 --remove", "destroy pr-6 --remove"]);
    expect([...backend.stacks.keys()].sort()).toEqual(["local", "pr-5", "production"]);
    const report = deps.files.get("reap.md") ?? "";
    expect(report).toContain("2 of 5 stacks to destroy.");
    expect(report).toContain(
      `| \`pr-4\` | destroy | PR #4 is closed | destroyed; image tags pr-4-* left in ${REPOSITORY}: DIGITALOCEAN_TOKEN is not set |`,
    );
    expect(report).toContain("| `production` | keep | production is never reaped |  |");
    expect(report).toContain("Leftover search: skipped, DIGITALOCEAN_TOKEN is not set.");
  });

  it("asks GitHub for the open PRs when none are given, and needs its token for that", async () => {
    const github = new FakeGitHub(new Set([4, 5, 6]));
    const backend = reaperBackend();
    expect(await runCli(["review", "reap"], testDeps({ backend, env: cloudEnv, now: NOW, github }))).toBe(ExitCode.ok);
    expect(backend.calls).toEqual(["destroy pr-6 --remove"]);
    const deps = testDeps({ backend: reaperBackend(), env: cloudEnv, now: NOW });
    expect(await runCli(["review", "reap"], deps)).toBe(ExitCode.prerequisite);
    expect(deps.errors).toEqual(["error: GITHUB_TOKEN is not set"]);
  });

  it("deletes the image tags of the stacks it destroys, and reports them", async () => {
    const backend = reaperBackend();
    const cloud = registryTags();
    const deps = testDeps({ backend, env: cloudEnv, now: NOW, cloud });
    expect(await runCli(["review", "reap", "--open-prs", "5,6", "--summary-file", "r.md"], deps)).toBe(ExitCode.ok);
    expect(cloud.deletedTags).toEqual([
      "acme/newsletter:pr-4-aaa111",
      "acme/newsletter:pr-6-aaa111",
      "acme/newsletter:pr-6-bbb222",
    ]);
    expect(cloud.repositories.get("acme/newsletter")).toEqual(["pr-5-aaa111", "pr-42-x"]);
    const report = deps.files.get("r.md") ?? "";
    expect(report).toContain(
      `| \`pr-4\` | destroy | PR #4 is closed | destroyed; deleted 1 image tag pr-4-* from ${REPOSITORY} |`,
    );
    expect(report).toContain(`destroyed; deleted 2 image tags pr-6-* from ${REPOSITORY} |`);
    expect(deps.errors).toEqual([]);
  });

  it("destroys nothing and deletes no image tags on a dry run", async () => {
    const cloud = registryTags();
    const deps = testDeps({ backend: reaperBackend(), env: cloudEnv, now: NOW, cloud });
    expect(await runCli(["review", "reap", "--open-prs", "", "--dry-run"], deps)).toBe(ExitCode.ok);
    expect(cloud.deletedTags).toEqual([]);
  });

  it("destroys nothing on a dry run", async () => {
    const backend = reaperBackend();
    const deps = testDeps({ backend, env: cloudEnv, now: NOW });
    expect(await runCli(["review", "reap", "--open-prs", "", "--dry-run", "--summary-file", "r.md"], deps)).toBe(
      ExitCode.ok,
    );
    expect(backend.calls).toEqual([]);
    expect(deps.files.get("r.md")).toContain("(dry run: nothing destroyed)");
  });

  it("skips a locked stack, carries on after a failure, and exits 1 if anything failed", async () => {
    const backend = reaperBackend();
    backend.add("pr-4", { tags: backend.stacks.get("pr-4")?.tags ?? {} }).failWith = {
      op: "destroy",
      error: new OpsError("pulumi destroy of stack pr-4 failed: error: timeout", ExitCode.failed),
    };
    backend.add("pr-6", { tags: backend.stacks.get("pr-6")?.tags ?? {} }).failWith = {
      op: "destroy",
      error: new OpsError("locked", ExitCode.locked),
    };
    backend.add("pr-7", { tags: {}, lastUpdate: ago(500).toISOString() });
    const deps = testDeps({ backend, env: cloudEnv, now: NOW });
    expect(await runCli(["review", "reap", "--open-prs", "5,6,7", "--summary-file", "r.md"], deps)).toBe(
      ExitCode.failed,
    );
    expect(backend.calls).toEqual(["destroy pr-4 --remove", "destroy pr-6 --remove", "destroy pr-7 --remove"]);
    const report = deps.files.get("r.md") ?? "";
    expect(report).toContain(
      "| `pr-4` | destroy | PR #4 is closed | failed: pulumi destroy of stack pr-4 failed: error: timeout |",
    );
    expect(report).toContain("skipped: locked by another update; next run");
  });

  it("finds resources whose stack is gone by their identity and deletes them only with --delete-leftovers", async () => {
    const old = ago(48).toISOString();
    const project = (stack: string, resourceCount: number) => ({
      id: `p-${stack}`,
      name: `newsletter-${stack}`,
      description: `pulumi:newsletter:${stack} (managed by Pulumi; deleted with its stack)`,
      createdAt: old,
      resourceCount,
    });
    const cloud = new FakeCloud(
      [
        { kind: "app", id: "a-prod", name: "newsletter-production", createdAt: old, projectId: "p-production" },
        { kind: "app", id: "a-5", name: "newsletter-pr-5", createdAt: old, projectId: "p-pr-5" },
        { kind: "app", id: "a-3", name: "newsletter-pr-3", createdAt: old, projectId: "p-pr-3" },
        // Named like a PR app but without this project's identity (someone else's): never touched.
        { kind: "app", id: "a-6", name: "newsletter-pr-6", createdAt: old },
      ],
      [{ kind: "database", id: "d-3", name: "newsletter-pr-3-db", createdAt: old, tags: ["pulumi:newsletter:pr-3"] }],
      [project("production", 2), project("pr-5", 1), project("pr-3", 2), project("pr-2", 0)],
    );
    const report = testDeps({ backend: reaperBackend(), env: cloudEnv, now: NOW, cloud });
    expect(await runCli(["review", "reap", "--open-prs", "5,6", "--summary-file", "r.md"], report)).toBe(ExitCode.ok);
    expect(cloud.deleted).toEqual([]);
    expect(report.errors).toEqual([
      'leftover: project "newsletter-pr-2" is empty and has no stack pr-2 (PR is closed)',
      'leftover: app "newsletter-pr-3" has no stack pr-3 (PR is closed)',
      'leftover: database "newsletter-pr-3-db" has no stack pr-3 (PR is closed)',
    ]);
    // pr-4 was destroyed in this run, so its resources would be gone too; pr-5's stack exists: not a leftover.
    const del = testDeps({ backend: reaperBackend(), env: cloudEnv, now: NOW, cloud });
    expect(
      await runCli(["review", "reap", "--open-prs", "5,6", "--delete-leftovers", "--summary-file", "r.md"], del),
    ).toBe(ExitCode.ok);
    expect(cloud.deleted.map((r) => r.id)).toEqual(["p-pr-2", "a-3", "d-3"]);
    expect(del.files.get("r.md")).toContain(
      '| app `newsletter-pr-3` | `a-3` | app "newsletter-pr-3" has no stack pr-3 (PR is closed) | deleted |',
    );
  });
});

describe("github comment / issue", () => {
  it("updates the PR comment for a topic from a file", async () => {
    const github = new FakeGitHub();
    const deps = testDeps({ github });
    deps.files.set("preview.md", "body");
    expect(
      await runCli(["github", "comment", "42", "--topic", "preview-production", "--body-file", "preview.md"], deps),
    ).toBe(ExitCode.ok);
    expect(github.comments).toEqual([{ pr: 42, topic: "preview-production", body: "body" }]);
    expect(marker("preview-production")).toBe("<!-- newsletter-ops:preview-production -->");
  });

  it("opens or closes the topic's issue", async () => {
    const github = new FakeGitHub();
    const deps = testDeps({ github });
    expect(
      await runCli(
        [
          "github",
          "issue",
          "--topic",
          "drift-production",
          "--title",
          "Drift",
          "--body",
          "x",
          "--label",
          "drift",
          "ops",
        ],
        deps,
      ),
    ).toBe(ExitCode.ok);
    expect(
      await runCli(
        ["github", "issue", "--topic", "drift-production", "--title", "Drift", "--body", "gone", "--close"],
        deps,
      ),
    ).toBe(ExitCode.ok);
    expect(github.issues).toEqual([
      { topic: "drift-production", title: "Drift", body: "x", labels: ["drift", "ops"], close: false },
      { topic: "drift-production", title: "Drift", body: "gone", labels: [], close: true },
    ]);
  });
});

describe("github deployment", () => {
  const sha = "0123456789abcdef0123456789abcdef01234567";

  it("records a deploy of pr-<number> with its URL, and retires every deployment of it on teardown", async () => {
    const github = new FakeGitHub();
    const deps = testDeps({ backend: new FakeBackend(), github });
    const url = "https://newsletter-pr-42-x1y2z.ondigitalocean.app";
    const argv = ["github", "deployment", "42", "--state", "success", "--commit", sha, "--url", url];
    expect(await runCli([...argv, "--log-url", "https://github.com/o/r/actions/runs/1"], deps)).toBe(ExitCode.ok);
    expect(await runCli(["github", "deployment", "7", "--state", "failure", "--commit", sha], deps)).toBe(ExitCode.ok);
    expect(github.deployments).toEqual([
      { environment: "pr-42", ref: sha, state: "success", url, logUrl: "https://github.com/o/r/actions/runs/1" },
      { environment: "pr-7", ref: sha, state: "failure", url: undefined, logUrl: undefined },
    ]);
    expect(await runCli(["github", "deployment", "42", "--state", "inactive"], deps)).toBe(ExitCode.ok);
    expect(github.deployments.map((d) => `${d.environment} ${d.state}`)).toEqual(["pr-42 inactive", "pr-7 failure"]);
    expect(deps.out).toContain("pr-42: 1 deployment(s) marked inactive");
  });

  it("refuses an unknown state and a deploy without a commit, as usage errors", async () => {
    const deps = testDeps({ backend: new FakeBackend(), github: new FakeGitHub() });
    expect(await runCli(["github", "deployment", "42", "--state", "done", "--commit", sha], deps)).toBe(ExitCode.usage);
    expect(await runCli(["github", "deployment", "42", "--state", "success"], deps)).toBe(ExitCode.usage);
    expect(deps.errors.join("\n")).toMatch(/--state must be success, failure or inactive, got "done"/);
  });
});
