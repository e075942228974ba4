import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ExitCode } from "../../ops/errors";
import { runCli } from "../../ops/program";
import { FakeBackend, FakeGitHub, testDeps } from "../ops/fakes";
import { officialBaseImage } from "../support/docker-cli";
import {
  expr,
  loadWorkflows,
  NOT_DEPENDABOT,
  type ParsedWorkflow,
  parseWorkflowFile,
  type RawJob,
  rawJobs,
  referencesSecrets,
  requiresSameRepository,
  runScripts,
  SAME_REPOSITORY,
  secretNames,
  shellWords,
  topLevelConjuncts,
} from "./parse";

const repoRoot = path.resolve(__dirname, "../..");
const readText = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");
const packageJson = JSON.parse(readText("package.json")) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

/** The composite action that installs the Pulumi CLI; every job that runs Pulumi uses it. */
const SETUP_PULUMI = "./.github/actions/setup-pulumi";
const setupPulumi = parseYaml(readText(".github/actions/setup-pulumi/action.yml")) as {
  runs: { using: string; steps: { uses?: string; run?: string; with?: Record<string, string> }[] };
};
const setupPulumiSource = readText(".github/actions/setup-pulumi/action.yml");

let workflows: Map<string, ParsedWorkflow>;
beforeAll(async () => {
  workflows = new Map((await loadWorkflows()).map((w) => [w.file, w]));
});

function workflow(file: string): ParsedWorkflow {
  const found = workflows.get(file);
  if (found === undefined) throw new Error(`no workflow ${file}`);
  return found;
}

function job(file: string, id: string) {
  const found = workflow(file).template.jobs.find((j) => j.id.value === id);
  if (found === undefined) throw new Error(`no job ${id} in ${file}`);
  return found;
}

const jobIf = (file: string, id: string) => job(file, id).if?.expression;
const rawJob = (file: string, id: string): RawJob => rawJobs(workflow(file))[id] ?? {};
const concurrency = (file: string, id?: string) =>
  (id === undefined ? workflow(file).raw.concurrency : rawJob(file, id).concurrency) as
    | Record<string, unknown>
    | undefined;
const allJobs = () =>
  [...workflows.values()].flatMap((w) => Object.entries(rawJobs(w)).map(([id, raw]) => ({ file: w.file, id, raw })));
const steps = (raw: RawJob) => (raw.steps ?? []) as Record<string, unknown>[];

/** The GitHub environment a job runs in, by name. */
function environmentOf(raw: RawJob): string | undefined {
  const env = raw.environment as string | { name?: string } | undefined;
  return typeof env === "string" ? env : env?.name;
}

/**
 * Verified pins: the commit each version tag points to. checkout and setup-node v5.0.0 as found in several public
 * workflows and cross-checked; pulumi/actions v7.0.0 and actions/cache v5.0.5 read from the tags of the
 * repositories themselves (`git rev-list -n1 v7.0.0` in pulumi/actions, `v5.0.5` in actions/cache). A new action
 * needs an entry here, with its source.
 */
const PINNED: Record<string, { sha: string; version: string }> = {
  "actions/checkout": { sha: "08c6903cd8c0fde910a37f88322edcfb5dd907a8", version: "v5.0.0" },
  "actions/setup-node": { sha: "a0853c24544627f65ddf259abe73b1d18a591444", version: "v5.0.0" },
  "pulumi/actions": { sha: "8e5e406f4007fca908480587cb9893c07090f58d", version: "v7.0.0" },
  "actions/cache": { sha: "27d5ce7f107fe9357f9df03efb73ab90386fccae", version: "v5.0.5" },
};

/** What each environment holds; the README's "Who can reach what" describes the same. */
const STACK_SECRETS = [
  "DIGITALOCEAN_TOKEN",
  "PULUMI_ACCESS_TOKEN",
  "PULUMI_CONFIG_PASSPHRASE",
  "SPACES_ACCESS_KEY_ID",
  "SPACES_SECRET_ACCESS_KEY",
];

describe("the workflow files", () => {
  it("are the six this repository relies on", () => {
    expect([...workflows.keys()]).toEqual([
      "ci.yml",
      "deploy.yml",
      "drift.yml",
      "preview.yml",
      "reaper.yml",
      "review.yml",
    ]);
  });

  it("parse without errors in GitHub's own workflow parser", () => {
    for (const w of workflows.values())
      expect({ file: w.file, errors: w.errors }).toEqual({ file: w.file, errors: [] });
  });

  it("would be caught by the parser if a key were misspelt", async () => {
    const broken = await parseWorkflowFile(
      "broken.yml",
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n",
    );
    expect(broken.errors.join("\n")).toMatch(/Unexpected value 'stepz'/);
  });
});

describe("triggers", () => {
  const events = (file: string) => workflow(file).template.events;

  it("runs CI once per change: for pull requests, and when deploy.yml calls it; never on push as well", () => {
    expect(events("ci.yml")).toEqual({ pull_request: {}, workflow_call: {}, workflow_dispatch: {} });
  });

  it("previews on pull request open and push", () => {
    expect(events("preview.yml")).toEqual({ pull_request: { types: ["opened", "synchronize", "reopened"] } });
  });

  it("deploys review environments on open and push, and tears them down on close (and on removing the gate label)", () => {
    expect(events("review.yml")).toEqual({
      pull_request: { types: ["opened", "synchronize", "reopened", "labeled", "unlabeled", "closed"] },
    });
    expect(jobIf("review.yml", "up")).toContain(
      'contains(fromJSON(\'["opened", "synchronize", "reopened"]\'), github.event.action)',
    );
    expect(jobIf("review.yml", "up")).not.toContain("'closed'");
    expect(jobIf("review.yml", "down")).toContain("github.event.action == 'closed'");
  });

  it("deploys production on pushes to main only (or by hand, still from main)", () => {
    expect(events("deploy.yml")).toEqual({ push: { branches: ["main"] }, workflow_dispatch: {} });
    expect(topLevelConjuncts(jobIf("deploy.yml", "deploy") ?? "")).toContain("github.ref == 'refs/heads/main'");
  });

  it("runs the reaper and the drift check on a schedule, and by hand", () => {
    expect(events("reaper.yml").schedule).toEqual([{ cron: "17 */6 * * *" }]);
    expect(events("reaper.yml").workflow_dispatch).toBeDefined();
    expect(events("drift.yml").schedule).toEqual([{ cron: "23 5 * * *" }]);
    expect(events("drift.yml").workflow_dispatch).toBeDefined();
  });

  it("never uses pull_request_target or workflow_run, which run with secrets on behalf of forks", () => {
    for (const w of workflows.values()) {
      expect(Object.keys(w.template.events)).not.toContain("pull_request_target");
      expect(Object.keys(w.template.events)).not.toContain("workflow_run");
    }
  });
});

describe("deploys depend on CI", () => {
  it("calls CI as a reusable workflow in the same run, passing it no secrets", () => {
    const ci = job("deploy.yml", "ci");
    expect(ci.type).toBe("reusableWorkflowJob");
    expect(rawJob("deploy.yml", "ci")).toEqual({
      name: "CI",
      uses: "./.github/workflows/ci.yml",
      permissions: { contents: "read" },
    });
  });

  it("starts the production deploy only after that CI passed", () => {
    const deploy = job("deploy.yml", "deploy");
    expect(deploy.type === "job" && deploy.needs?.map((n) => n.value)).toEqual(["ci"]);
    // `needs` alone means "every needed job succeeded": the condition adds no always() or failure() around it.
    expect(jobIf("deploy.yml", "deploy")).toBe("success() && (github.ref == 'refs/heads/main')");
  });

  it("is the only job that holds production's deploy credentials", () => {
    const production = allJobs().filter((j) => environmentOf(j.raw) === "production");
    expect(production.map((j) => `${j.file}:${j.id}`)).toEqual(["deploy.yml:deploy"]);
  });
});

describe("environments and secrets", () => {
  const expected: Record<string, Record<string, { environment?: string; secrets: string[] }>> = {
    "ci.yml": { test: { secrets: [] }, image: { secrets: [] } },
    "deploy.yml": { ci: { secrets: [] }, deploy: { environment: "production", secrets: STACK_SECRETS } },
    "preview.yml": { notice: { secrets: [] }, preview: { environment: "production-read", secrets: STACK_SECRETS } },
    "review.yml": {
      up: { environment: "review", secrets: STACK_SECRETS },
      down: { environment: "review", secrets: STACK_SECRETS },
    },
    "reaper.yml": { reap: { environment: "review", secrets: STACK_SECRETS } },
    "drift.yml": { drift: { environment: "production-read", secrets: STACK_SECRETS } },
  };

  it("give each job exactly its environment and the secrets it reads", () => {
    for (const w of workflows.values()) {
      const actual = Object.fromEntries(
        Object.entries(rawJobs(w)).map(([id, raw]) => {
          const environment = environmentOf(raw);
          return [id, { ...(environment === undefined ? {} : { environment }), secrets: secretNames(raw) }];
        }),
      );
      expect({ file: w.file, jobs: actual }).toEqual({ file: w.file, jobs: expected[w.file] });
    }
  });

  it("never read a secret outside a GitHub environment (no repository-level secret is needed)", () => {
    for (const { file, id, raw } of allJobs()) {
      if (!referencesSecrets(raw)) continue;
      expect({ file, id, environment: environmentOf(raw) }).not.toMatchObject({ environment: undefined });
    }
  });

  it("never put a secret in workflow-level or job-level env, nor in a script or an action's inputs", () => {
    for (const w of workflows.values()) {
      expect({ file: w.file, env: referencesSecrets(w.raw.env) }).toEqual({ file: w.file, env: false });
      for (const [id, raw] of Object.entries(rawJobs(w))) {
        expect({ file: w.file, id, jobEnv: referencesSecrets(raw.env) }).toEqual({ file: w.file, id, jobEnv: false });
        for (const step of steps(raw)) {
          const { env: _stepEnv, ...rest } = step;
          expect({ file: w.file, id, step: step.name ?? step.run, outsideEnv: referencesSecrets(rest) }).toEqual({
            file: w.file,
            id,
            step: step.name ?? step.run,
            outsideEnv: false,
          });
        }
      }
    }
  });

  it("hand secrets only to the step that runs Pulumi, never to npm ci or the GitHub API steps", () => {
    for (const { file, id, raw } of allJobs()) {
      for (const step of steps(raw)) {
        if (!referencesSecrets(step.env)) continue;
        expect({ file, id, run: step.run }).toEqual({
          file,
          id,
          run: expect.stringMatching(/npm run ops -- (up|preview|review (up|down|reap)|drift) /),
        });
        expect(String(step.run)).not.toMatch(/npm (ci|install)\b|ops -- github /);
      }
    }
  });

  it("give the workflow's GitHub token only to the steps that call GitHub's API", () => {
    for (const { file, id, raw } of allJobs()) {
      for (const step of steps(raw)) {
        const env = (step.env ?? {}) as Record<string, unknown>;
        if (env.GITHUB_TOKEN === undefined) continue;
        expect(env.GITHUB_TOKEN).toBe(expr("github.token"));
        expect({ file, id, run: step.run }).toEqual({
          file,
          id,
          run: expect.stringMatching(/npm run ops -- (github |review reap|"\$\{issue\[@\]\}")/),
        });
      }
      expect({ file, id, jobToken: JSON.stringify(raw.env ?? {}).includes("github.token") }).toEqual({
        file,
        id,
        jobToken: false,
      });
    }
  });
});

describe("pull requests from forks and from Dependabot", () => {
  const prWorkflows = () => [...workflows.values()].filter((w) => w.template.events.pull_request !== undefined);

  it("get no secrets: every job of a PR-triggered workflow that reads a secret runs only for this repository's human PRs", () => {
    for (const w of prWorkflows()) {
      for (const [id, raw] of Object.entries(rawJobs(w))) {
        if (!referencesSecrets(raw) && environmentOf(raw) === undefined) continue;
        expect({ file: w.file, job: id, guarded: requiresSameRepository(jobIf(w.file, id)) }).toEqual({
          file: w.file,
          job: id,
          guarded: true,
        });
      }
    }
  });

  it("still get the tests: CI reads no secret, uses no environment and has no repository condition", () => {
    expect(referencesSecrets(workflow("ci.yml").raw)).toBe(false);
    for (const [id, raw] of Object.entries(rawJobs(workflow("ci.yml")))) {
      expect({ id, environment: environmentOf(raw) }).toEqual({ id, environment: undefined });
      expect(jobIf("ci.yml", id)).toBe("success()");
    }
  });

  it("are told why they get no preview", () => {
    expect(jobIf("preview.yml", "notice")).toBe(
      `success() && (github.event.pull_request.head.repo.full_name != github.repository || github.actor == 'dependabot[bot]')`,
    );
    const notice = runScripts(rawJob("preview.yml", "notice")).join("\n");
    expect(notice).toContain("::notice title=No Pulumi preview for pull requests from forks or bots::");
    expect(notice).toMatch(/GitHub gives workflows triggered by a fork's or Dependabot's pull request no secrets/);
    expect(referencesSecrets(rawJob("preview.yml", "notice"))).toBe(false);
  });

  it("recognises only top-level same-repository and not-Dependabot conditions as a guard", () => {
    const both = `${SAME_REPOSITORY} && ${NOT_DEPENDABOT}`;
    expect(requiresSameRepository(`success() && (${both})`)).toBe(true);
    expect(requiresSameRepository(`success() && (${both} && (github.event.action == 'closed' || x))`)).toBe(true);
    expect(requiresSameRepository(`success() && (${SAME_REPOSITORY})`)).toBe(false);
    expect(requiresSameRepository(`success() && (${both} || github.event.action == 'closed')`)).toBe(false);
    expect(requiresSameRepository(`success() && ((${both}) || true)`)).toBe(false);
    expect(requiresSameRepository("success()")).toBe(false);
  });
});

describe("concurrency and cancellation", () => {
  it("cancels a superseded preview: a preview takes no lock and writes no state in a self-managed backend", () => {
    expect(concurrency("preview.yml")).toEqual({
      group: expr("format('preview-{0}', github.event.pull_request.number)"),
      "cancel-in-progress": true,
    });
  });

  it("cancels superseded CI runs of a PR, but never the CI that a deploy waits for", () => {
    expect(concurrency("ci.yml")).toEqual({
      group: expr("format('ci-{0}', github.event.pull_request.number || github.run_id)"),
      "cancel-in-progress": true,
    });
  });

  it("deploys production one at a time, queued, never cancelling a running update, behind the production environment", () => {
    expect(concurrency("deploy.yml", "deploy")).toEqual({ group: "pulumi-production", "cancel-in-progress": false });
    expect(rawJob("deploy.yml", "deploy").environment).toEqual({
      name: "production",
      url: expr("steps.up.outputs.url"),
    });
  });

  it("gives teardown a per-PR group shared with that PR's deploys and never production's", () => {
    const perPr = {
      group: expr("format('review-pr-{0}', github.event.pull_request.number)"),
      "cancel-in-progress": false,
    };
    expect(concurrency("review.yml", "down")).toEqual(perPr);
    expect(concurrency("review.yml", "up")).toEqual(perPr);
  });

  it("uses production's group in the deploy job only", () => {
    for (const { file, id, raw } of allJobs()) {
      if (file === "deploy.yml" && id === "deploy") continue;
      expect({ file, id, group: JSON.stringify(raw.concurrency ?? null) }).not.toMatchObject({
        group: expect.stringContaining("pulumi-production"),
      });
    }
    for (const w of workflows.values())
      expect(JSON.stringify(w.raw.concurrency ?? null)).not.toContain("pulumi-production");
  });

  it("never cancels a Pulumi operation that takes a lock (up, destroy, the reaper) and cancels nothing else", () => {
    const cancelling = [...workflows.values()].flatMap((w) => [
      ...((w.raw.concurrency as Record<string, unknown> | undefined)?.["cancel-in-progress"] === true ? [w.file] : []),
      ...Object.entries(rawJobs(w))
        .filter(([, raw]) => (raw.concurrency as Record<string, unknown> | undefined)?.["cancel-in-progress"] === true)
        .map(([id]) => `${w.file}:${id}`),
    ]);
    expect(cancelling.sort()).toEqual(["ci.yml", "preview.yml"]);
  });
});

describe("permissions", () => {
  const expected: Record<string, Record<string, Record<string, string>>> = {
    "ci.yml": { test: { contents: "read" }, image: { contents: "read" } },
    "preview.yml": { notice: {}, preview: { contents: "read", "pull-requests": "write" } },
    "review.yml": {
      up: { contents: "read", "pull-requests": "write", deployments: "write" },
      down: { contents: "read", "pull-requests": "write", deployments: "write" },
    },
    "deploy.yml": { ci: { contents: "read" }, deploy: { contents: "read" } },
    "reaper.yml": { reap: { contents: "read", "pull-requests": "read" } },
    "drift.yml": { drift: { contents: "read", issues: "write" } },
  };

  it("grant nothing at the workflow level", () => {
    for (const w of workflows.values())
      expect({ file: w.file, permissions: w.raw.permissions }).toEqual({ file: w.file, permissions: {} });
  });

  it("grant each job exactly what it uses", () => {
    for (const w of workflows.values()) {
      const actual = Object.fromEntries(Object.entries(rawJobs(w)).map(([id, raw]) => [id, raw.permissions]));
      expect({ file: w.file, permissions: actual }).toEqual({ file: w.file, permissions: expected[w.file] });
    }
  });
});

describe("actions", () => {
  const uses = () => [
    ...[...workflows.values()].flatMap((w) =>
      w.template.jobs
        .flatMap((j) => (j.type === "job" ? j.steps : []))
        .flatMap((s) => ("uses" in s ? [{ file: w.file, uses: s.uses.value }] : [])),
    ),
    ...setupPulumi.runs.steps.flatMap((s) => (s.uses === undefined ? [] : [{ file: "setup-pulumi", uses: s.uses }])),
  ];

  it("are this repository's own, or pinned to a full 40-hex commit SHA from the verified list", () => {
    expect(uses().length).toBeGreaterThan(0);
    for (const { file, uses: ref } of uses()) {
      if (ref.startsWith("./")) {
        expect({ file, ref, exists: existsSync(path.join(repoRoot, ref, "action.yml")) }).toEqual({
          file,
          ref,
          exists: true,
        });
        continue;
      }
      const [name, sha] = ref.split("@");
      expect({ file, ref }).toEqual({ file, ref: `${name}@${PINNED[name ?? ""]?.sha}` });
      expect(sha).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it("carry the version as a comment next to the SHA", () => {
    const sources = [...[...workflows.values()].map((w) => w.content), setupPulumiSource];
    for (const line of sources.flatMap((s) => s.split("\n")).filter((l) => /\buses:\s*[^.\s]/.test(l))) {
      const name = /uses:\s*([^@\s]+)@/.exec(line)?.[1] ?? "";
      expect(line.trim().replace(/^- /, "")).toBe(`uses: ${name}@${PINNED[name]?.sha} # ${PINNED[name]?.version}`);
    }
  });
});

describe("the Pulumi CLI", () => {
  const version = readText(".pulumi-version").trim();
  const semver = (v: string) => v.split(".").map(Number) as [number, number, number];
  const atLeast = (v: string, min: string) => {
    const [a, b] = [semver(v), semver(min)];
    for (let i = 0; i < 3; i += 1) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
    return true;
  };

  it("has its version in one place, .pulumi-version, not older than the SDK and with the S3 checksum fixes", () => {
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(atLeast(version, packageJson.dependencies["@pulumi/pulumi"] ?? "")).toBe(true);
    // 3.258.0: the first CLI whose S3 backend writes to Spaces without streaming checksums (action.yml says why).
    expect(atLeast(version, "3.258.0")).toBe(true);
    for (const w of workflows.values()) expect(w.content).not.toMatch(/PULUMI_VERSION|\b3\.\d{3}\.\d+\b/);
  });

  it("is installed by pulumi/actions, pinned by commit, reading that file, with the plugins cached", () => {
    expect(setupPulumi.runs.using).toBe("composite");
    const [install, cache] = setupPulumi.runs.steps;
    expect(install).toEqual({
      uses: `pulumi/actions@${PINNED["pulumi/actions"]?.sha}`,
      with: { "pulumi-version-file": ".pulumi-version" },
    });
    expect(cache?.uses).toBe(`actions/cache@${PINNED["actions/cache"]?.sha}`);
    expect(cache?.with).toMatchObject({
      path: "~/.pulumi/plugins",
      key: expect.stringContaining("hashFiles('.pulumi-version', 'package-lock.json')"),
    });
  });

  it("is set up before every job's first Pulumi command, and never with an install script", () => {
    let jobsRunningPulumi = 0;
    for (const { file, id, raw } of allJobs()) {
      const all = steps(raw);
      const first = all.findIndex((s) => /npm run ops -- (preview|up|review|drift|destroy)/.test(String(s.run ?? "")));
      expect(JSON.stringify(raw)).not.toMatch(/get\.pulumi\.com|curl /);
      if (first < 0) continue;
      jobsRunningPulumi += 1;
      const setup = all.findIndex((s) => s.uses === SETUP_PULUMI);
      expect({ file, id, setupBeforePulumi: setup >= 0 && setup < first }).toEqual({
        file,
        id,
        setupBeforePulumi: true,
      });
    }
    expect(jobsRunningPulumi).toBe(6);
  });

  it("meets an S3 backend with the checksum mode that S3-compatible stores accept", () => {
    for (const { file, id, raw } of allJobs()) {
      if (!JSON.stringify(raw.env ?? {}).includes("PULUMI_BACKEND_URL")) continue;
      expect({ file, id, env: raw.env }).toMatchObject({
        env: { AWS_REQUEST_CHECKSUM_CALCULATION: "when_required", AWS_RESPONSE_CHECKSUM_VALIDATION: "when_required" },
      });
    }
  });
});

describe("job summaries", () => {
  it("are written by every job that runs steps", () => {
    for (const { file, id, raw } of allJobs()) {
      if (raw.uses !== undefined) continue; // a reusable workflow's own jobs write theirs
      const writes = runScripts(raw).some((run) => run.includes("GITHUB_STEP_SUMMARY"));
      expect({ file, id, writes }).toEqual({ file, id, writes: true });
    }
  });
});

describe("per-PR environments on GitHub", () => {
  it("record each deploy as the GitHub deployment pr-<number> with its URL, success or failure", () => {
    const step = steps(rawJob("review.yml", "up")).find((s) => String(s.run).includes("github deployment"));
    expect(step?.if).toBe(expr("!cancelled() && steps.up.outcome != 'skipped'"));
    expect(step?.env).toEqual({
      GITHUB_TOKEN: expr("github.token"),
      STATE: expr("steps.up.outcome == 'success' && 'success' || 'failure'"),
      URL: expr("steps.up.outputs.url"),
    });
  });

  it("mark it inactive on teardown, and post 'destroyed' only where there was an environment", () => {
    const down = steps(rawJob("review.yml", "down"));
    expect(down.find((s) => String(s.run).includes("github deployment"))?.run).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable in the workflow, not a JS template
      'npm run ops -- github deployment "${PR}" --state inactive',
    );
    const comment = down.find((s) => String(s.run).includes("--topic review-environment"));
    expect(comment?.if).toBe("steps.down.outputs.existed == 'true'");
    expect(down.find((s) => String(s.run).includes("review down"))?.id).toBe("down");
  });
});

describe("Dependabot", () => {
  const config = parseYaml(readText(".github/dependabot.yml")) as {
    version: number;
    updates: { "package-ecosystem": string; directory?: string; directories?: string[] }[];
  };
  const covered = config.updates.flatMap((u) =>
    (u.directories ?? [u.directory ?? ""]).map((dir) => `${u["package-ecosystem"]} ${dir}`),
  );

  it("keeps the actions, both npm packages and the Dockerfile's base images current", () => {
    expect(config.version).toBe(2);
    expect(covered.sort()).toEqual([
      "docker /",
      "github-actions /",
      "github-actions /.github/actions/setup-pulumi",
      "npm /",
      "npm /app",
    ]);
  });

  it("sees the Dockerfile's official base images in FROM lines, which BUILD_IMAGE and RUNTIME_IMAGE still replace", () => {
    // Dependabot reads image names from FROM lines only, never from ARG defaults (dependabot/dependabot-core#2057).
    const dockerfile = readText("Dockerfile");
    expect(officialBaseImage(dockerfile, "build")).toMatch(/^node:\d+\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    expect(officialBaseImage(dockerfile, "runtime")).toMatch(
      /^gcr\.io\/distroless\/nodejs\d+-debian13:nonroot(@sha256:[0-9a-f]{64})?$/,
    );
    expect(dockerfile).toMatch(/^ARG BUILD_IMAGE=official-build$/m);
    expect(dockerfile).toMatch(/^ARG RUNTIME_IMAGE=official-runtime$/m);
    expect(dockerfile.match(/^FROM \$\{(BUILD|RUNTIME)_IMAGE\} AS \S+$/gm)?.length).toBeGreaterThanOrEqual(2);
  });

  it("points at directories that hold what each ecosystem reads, and misses no composite action", () => {
    const manifest: Record<string, string> = {
      npm: "package-lock.json",
      docker: "Dockerfile",
      "github-actions": ".github/workflows",
    };
    for (const entry of covered) {
      const [ecosystem = "", dir = ""] = entry.split(" ");
      const inside = dir.startsWith("/.github/actions/") ? "action.yml" : (manifest[ecosystem] ?? "");
      expect({ entry, exists: existsSync(path.join(repoRoot, dir, inside)) }).toEqual({ entry, exists: true });
    }
    for (const action of readdirSync(path.join(repoRoot, ".github/actions")))
      expect(covered).toContain(`github-actions /.github/actions/${action}`);
  });
});

describe("npm scripts the workflows call", () => {
  const calls = () =>
    [...workflows.values()].flatMap((w) =>
      Object.values(rawJobs(w)).flatMap((raw) =>
        runScripts(raw).flatMap((script) =>
          [...script.matchAll(/\bnpm (?:run(?:-script)?|test|start)\b(?:\s+--silent)?\s*([a-z0-9:_-]*)/g)].map((m) => ({
            file: w.file,
            script: m[0].startsWith("npm test") ? "test" : m[0].startsWith("npm start") ? "start" : (m[1] ?? ""),
          })),
        ),
      ),
    );

  it("all exist in package.json", () => {
    expect(calls().length).toBeGreaterThan(10);
    for (const call of calls())
      expect({ ...call, exists: call.script in packageJson.scripts }).toEqual({ ...call, exists: true });
  });

  it("include the checks CI must run, the tests with Docker required", () => {
    const ci = calls()
      .filter((c) => c.file === "ci.yml")
      .map((c) => c.script);
    expect(ci).toEqual(["typecheck", "lint", "test"]);
    const test = steps(rawJob("ci.yml", "test")).find((s) => String(s.run).startsWith("npm test"));
    expect(test?.env).toEqual({ REQUIRE_DOCKER: "1" });
  });
});

describe("ops commands the workflows run", () => {
  const values: Record<string, string> = {
    PR: "42",
    HEAD_SHA: "0123456789abcdef0123456789abcdef01234567",
    TTL: "72h",
    RUNNER_TEMP: "/tmp",
    GITHUB_STEP_SUMMARY: "/tmp/summary.md",
    RUN_URL: "https://github.com/acme/newsletter/actions/runs/1",
    STATE: "success",
    URL: "https://newsletter-pr-42-abcde.ondigitalocean.app",
    body: "/tmp/body.md",
  };

  /** Each `npm run ops -- …` command line of a script, with bash arrays and the variables above filled in. */
  function opsCommands(script: string): string[][] {
    const arrays = new Map([...script.matchAll(/^\s*(\w+)=\((.*)\)\s*$/gm)].map((m) => [m[1] ?? "", m[2] ?? ""]));
    return [...script.matchAll(/npm run ops -- (.*?)(?:\s*(?:;;|\|\||&&|;)|$)/gm)].map((m) => {
      const line = (m[1] ?? "")
        .replace(/"\$\{(\w+)\[@\]\}"/g, (_, name: string) => arrays.get(name) ?? "")
        .replace(/\$\{(\w+)\}/g, (_, name: string) => values[name] ?? `<${name}>`);
      return shellWords(line);
    });
  }

  it("are accepted by the CLI's argument parser (no usage errors)", async () => {
    const commandLines = [...workflows.values()].flatMap((w) =>
      Object.values(rawJobs(w)).flatMap((raw) => runScripts(raw).flatMap((script) => opsCommands(script))),
    );
    expect(commandLines.map((argv) => argv.slice(0, 2).join(" ")).sort()).toEqual([
      "drift production",
      "github comment",
      "github comment",
      "github comment",
      "github deployment",
      "github deployment",
      "github issue",
      "github issue",
      "preview production",
      "review down",
      "review reap",
      "review up",
      "up production",
    ]);
    for (const argv of commandLines) {
      expect(argv.join(" ")).not.toContain("<");
      const backend = new FakeBackend();
      backend.add("production");
      const deps = testDeps({
        backend,
        github: new FakeGitHub(new Set([42])),
        head: values.HEAD_SHA,
        env: { PULUMI_ACCESS_TOKEN: "x" },
      });
      const code = await runCli(argv, deps);
      expect(code, `${argv.join(" ")}: ${deps.errors.join(" / ")}`).not.toBe(ExitCode.usage);
    }
  });
});
