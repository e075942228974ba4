import { readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../ops/errors";
import { runCli } from "../../ops/program";
import { FakeBackend, FakeGitHub, testDeps } from "../ops/fakes";
import {
  expr,
  loadWorkflows,
  type ParsedWorkflow,
  parseWorkflowFile,
  rawJobs,
  referencesSecrets,
  requiresSameRepository,
  runScripts,
  shellWords,
} from "./parse";

const repoRoot = path.resolve(__dirname, "../..");
const packageJson = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

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
  if (found === undefined || found.type !== "job") throw new Error(`no job ${id} in ${file}`);
  return found;
}

const jobIf = (file: string, id: string) => job(file, id).if?.expression;
const concurrency = (file: string, id: string) =>
  rawJobs(workflow(file))[id]?.concurrency as Record<string, unknown> | undefined;

/**
 * Verified pins: the SHA each version tag points to, as found in several public workflows and cross-checked
 * (actions/checkout v5.0.0, actions/setup-node v5.0.0). A new action needs an entry here, with its source.
 */
const PINNED: Record<string, { sha: string; version: string }> = {
  "actions/checkout": { sha: "08c6903cd8c0fde910a37f88322edcfb5dd907a8", version: "v5.0.0" },
  "actions/setup-node": { sha: "a0853c24544627f65ddf259abe73b1d18a591444", version: "v5.0.0" },
};

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

  it("runs CI on every push and every pull request", () => {
    expect(events("ci.yml")).toEqual({ push: {}, pull_request: {} });
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

  it("deploys production on pushes to main only (or by hand)", () => {
    expect(events("deploy.yml")).toEqual({ push: { branches: ["main"] }, workflow_dispatch: {} });
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

describe("pull requests from forks", () => {
  const prWorkflows = () => [...workflows.values()].filter((w) => w.template.events.pull_request !== undefined);

  it("get no secrets: every job of a PR-triggered workflow that references a secret runs only for this repository", () => {
    for (const w of prWorkflows()) {
      for (const [id, raw] of Object.entries(rawJobs(w))) {
        if (!referencesSecrets(raw)) continue;
        expect({
          file: w.file,
          job: id,
          sameRepositoryOnly: requiresSameRepository(job(w.file, id).if?.expression),
        }).toEqual({
          file: w.file,
          job: id,
          sameRepositoryOnly: true,
        });
      }
    }
  });

  it("still get the tests: CI references no secret at all and has no repository condition", () => {
    expect(referencesSecrets(workflow("ci.yml").raw)).toBe(false);
    for (const j of workflow("ci.yml").template.jobs) expect(j.if?.expression).toBe("success()");
  });

  it("are told why they get no preview", () => {
    expect(jobIf("preview.yml", "fork-notice")).toBe(
      "success() && (github.event.pull_request.head.repo.full_name != github.repository)",
    );
    const notice = runScripts(rawJobs(workflow("preview.yml"))["fork-notice"] ?? {}).join("\n");
    expect(notice).toMatch(
      /::notice title=No Pulumi preview for pull requests from forks::GitHub gives workflows triggered by a fork's pull request no secrets/,
    );
    expect(referencesSecrets(rawJobs(workflow("preview.yml"))["fork-notice"])).toBe(false);
  });

  it("recognises only a top-level same-repository condition as a guard", () => {
    const guard = "github.event.pull_request.head.repo.full_name == github.repository";
    expect(requiresSameRepository(`success() && (${guard})`)).toBe(true);
    expect(requiresSameRepository(`success() && (${guard} && github.event.action == 'closed')`)).toBe(true);
    expect(requiresSameRepository(`success() && (${guard} || github.event.action == 'closed')`)).toBe(false);
    expect(requiresSameRepository(`success() && (github.event.action == 'closed' || ${guard})`)).toBe(false);
    expect(requiresSameRepository("success()")).toBe(false);
  });
});

describe("concurrency", () => {
  it("deploys production one at a time, queued, never cancelling a running update, behind the production environment", () => {
    expect(concurrency("deploy.yml", "deploy")).toEqual({ group: "pulumi-production", "cancel-in-progress": false });
    expect(rawJobs(workflow("deploy.yml")).deploy?.environment).toEqual({
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
    expect(concurrency("review.yml", "down")?.group).not.toEqual(concurrency("deploy.yml", "deploy")?.group);
  });

  it("uses production's group in the deploy job only", () => {
    for (const w of workflows.values()) {
      expect(JSON.stringify(w.raw.concurrency ?? null)).not.toContain("pulumi-production");
      for (const [id, raw] of Object.entries(rawJobs(w))) {
        if (w.file === "deploy.yml" && id === "deploy") continue;
        expect({ file: w.file, id, group: JSON.stringify(raw.concurrency ?? null) }).not.toMatchObject({
          group: expect.stringContaining("pulumi-production"),
        });
      }
    }
  });

  it("never cancels a running Pulumi operation in any workflow that runs one", () => {
    for (const file of ["preview.yml", "reaper.yml", "drift.yml"]) {
      expect((workflow(file).raw.concurrency as Record<string, unknown>)["cancel-in-progress"]).toBe(false);
    }
  });
});

describe("permissions", () => {
  const expected: Record<string, Record<string, Record<string, string>>> = {
    "ci.yml": { test: { contents: "read" }, image: { contents: "read" } },
    "preview.yml": { "fork-notice": {}, preview: { contents: "read", "pull-requests": "write" } },
    "review.yml": {
      up: { contents: "read", "pull-requests": "write" },
      down: { contents: "read", "pull-requests": "write" },
    },
    "deploy.yml": { deploy: { contents: "read" } },
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
  const uses = () =>
    [...workflows.values()].flatMap((w) =>
      w.template.jobs
        .flatMap((j) => (j.type === "job" ? j.steps : []))
        .flatMap((s) => ("uses" in s ? [{ file: w.file, uses: s.uses.value }] : [])),
    );

  it("are all pinned to a full 40-hex commit SHA from the verified list", () => {
    expect(uses().length).toBeGreaterThan(0);
    for (const { file, uses: ref } of uses()) {
      const [name, sha] = ref.split("@");
      expect({ file, ref }).toEqual({ file, ref: `${name}@${PINNED[name ?? ""]?.sha}` });
      expect(sha).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it("carry the version as a comment next to the SHA", () => {
    for (const w of workflows.values()) {
      for (const line of w.content.split("\n").filter((l) => /\buses:/.test(l))) {
        const name = /uses:\s*([^@\s]+)@/.exec(line)?.[1] ?? "";
        expect(line.trim()).toBe(`- uses: ${name}@${PINNED[name]?.sha} # ${PINNED[name]?.version}`);
      }
    }
  });

  it("install the Pulumi CLI at the version of the @pulumi/pulumi SDK, which stores stack tags on self-managed backends", () => {
    const sdk = packageJson.dependencies["@pulumi/pulumi"];
    for (const file of ["preview.yml", "review.yml", "deploy.yml", "reaper.yml", "drift.yml"]) {
      expect((workflow(file).raw.env as Record<string, unknown>).PULUMI_VERSION).toBe(sdk);
      for (const [id, raw] of Object.entries(rawJobs(workflow(file)))) {
        const scripts = runScripts(raw).join("\n");
        if (!/npm run ops -- (preview|up|review|drift|destroy)/.test(scripts)) continue;
        expect({
          file,
          id,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable in the workflow, not a JS template
          installs: scripts.includes('curl -fsSL https://get.pulumi.com | sh -s -- --version "${PULUMI_VERSION}"'),
        }).toEqual({ file, id, installs: true });
      }
    }
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

  it("include the checks CI must run", () => {
    const ci = calls()
      .filter((c) => c.file === "ci.yml")
      .map((c) => c.script);
    expect(ci).toEqual(["typecheck", "lint", "test"]);
    const env = (rawJobs(workflow("ci.yml")).test?.steps ?? []).find((s) => s.run === "npm test")?.env;
    expect(env).toEqual({ REQUIRE_DOCKER: "1" });
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
