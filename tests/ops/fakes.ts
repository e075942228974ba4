// In-memory stand-ins for what the CLI talks to: a Pulumi backend (stacks with tags, outputs and planned steps) and
// the stack files beside it, a prerequisite probe that answers `docker` from the engine model the stand-in CLI uses
// (tests/support/pulumi-standin/engine.ts), and the GitHub / DigitalOcean clients. Commands are tested down to the
// ops/pulumi.ts boundary against this backend; ops/pulumi.ts itself runs against the stand-in `pulumi` executable
// (tests/ops/pulumi.test.ts). Where commands depend on what the CLI does, the backend does the same, citing it.
import * as path from "node:path";
import type { CloudInventory, Deps, GitHubWriter, PullRequestSource } from "../../ops/commands";
import type { RegistryRepository } from "../../ops/digitalocean";
import { ExitCode, OpsError } from "../../ops/errors";
import type { DeploymentRecord } from "../../ops/github";
import type { CloudProject, CloudResource } from "../../ops/leftovers";
import type { ProbeResult } from "../../ops/prerequisites";
import type { PlannedStep } from "../../ops/preview-summary";
import type { PulumiWorkspace, StackHandle, StackOutputs, WorkspaceSettings } from "../../ops/pulumi";
import { dockerCli, type EngineState, emptyEngine } from "../support/pulumi-standin/engine";
import { readProject } from "../support/pulumi-standin/project";

/** The repository's Pulumi.yaml: its defaults are what the CLI lists for keys a stack does not set. */
const PROJECT_DEFAULTS = readProject(path.resolve(__dirname, "../..")).defaults;

/** What Pulumi.<stack>.yaml holds: config, with secret values kept apart as the secrets provider would encrypt them. */
export interface FakeStackFile {
  config: Record<string, string>;
  secretKeys: string[];
}

export interface FakeStack {
  tags: Record<string, string>;
  outputs: StackOutputs;
  lastUpdate?: string;
  updateInProgress?: boolean;
  /** What preview and refresh report. */
  steps: PlannedStep[];
  changeSummary: Record<string, number>;
  stdout: string;
  /** Make the next operation of this kind fail. */
  failWith?: { op: "up" | "destroy" | "preview"; error: OpsError };
}

export class FakeBackend {
  readonly stacks = new Map<string, FakeStack>();
  /** The stack files in the working directory: they outlive a stack removed with --preserve-config. */
  readonly stackFiles = new Map<string, FakeStackFile>();
  readonly calls: string[] = [];
  readonly settings: WorkspaceSettings[] = [];
  /** Drop tag writes, like a Pulumi CLI older than 3.211.0 on a DIY backend. */
  dropTags = false;
  /** What a stack created by createOrSelect starts with (e.g. the outputs its first `up` will report). */
  createWith: Partial<FakeStack> = {};

  add(name: string, stack: Partial<FakeStack> & { config?: Record<string, string> } = {}): FakeStack {
    const { config, ...rest } = stack;
    if (config !== undefined) this.stackFiles.set(name, { config: { ...config }, secretKeys: [] });
    const full: FakeStack = {
      tags: {},
      outputs: {},
      steps: [],
      changeSummary: {},
      stdout: "",
      ...rest,
    };
    this.stacks.set(name, full);
    return full;
  }

  private fail(stack: FakeStack, op: "up" | "destroy" | "preview"): void {
    if (stack.failWith?.op === op) throw stack.failWith.error;
  }

  private handle(name: string): StackHandle {
    const stack = (): FakeStack => {
      const s = this.stacks.get(name);
      if (s === undefined) throw new Error(`fake: stack ${name} vanished`);
      return s;
    };
    return {
      name,
      preview: async (options) => {
        this.calls.push(`preview ${name}${options.diff ? " --diff" : ""}`);
        this.fail(stack(), "preview");
        return { steps: stack().steps, stdout: stack().stdout, changeSummary: stack().changeSummary };
      },
      previewRefresh: async () => {
        this.calls.push(`refresh --preview-only ${name}`);
        return { steps: stack().steps, stdout: stack().stdout, changeSummary: stack().changeSummary };
      },
      up: async () => {
        this.calls.push(`up ${name}`);
        this.fail(stack(), "up");
        return stack().outputs;
      },
      destroy: async (options) => {
        const flags = `${options.remove ? " --remove" : ""}${options.remove && options.preserveConfig ? " --preserve-config" : ""}`;
        this.calls.push(`destroy ${name}${flags}`);
        this.fail(stack(), "destroy");
        stack().outputs = {};
        if (!options.remove) return;
        this.stacks.delete(name);
        // `stack rm` deletes Pulumi.<stack>.yaml unless --preserve-config (pulumi/pulumi v3.248.0,
        // pkg/cmd/pulumi/stack/stack_remove.go).
        if (!options.preserveConfig) this.stackFiles.delete(name);
      },
      outputs: async () => stack().outputs,
      listTags: async () => ({ ...stack().tags }),
      setTags: async (tags) => {
        this.calls.push(`tag ${name} ${Object.keys(tags).join(",")}`);
        if (!this.dropTags) Object.assign(stack().tags, tags);
      },
      // `config --json` lists Pulumi.yaml's defaults for keys the stack file does not set (pulumi/pulumi v3.248.0,
      // pkg/cmd/pulumi/config/config.go, listConfig → workspace.ApplyProjectConfig).
      configValue: async (key) => this.stackFiles.get(name)?.config[key] ?? PROJECT_DEFAULTS[key],
      setSecretConfig: async (key, value) => {
        this.calls.push(`config set --secret ${key}`);
        const file = this.stackFiles.get(name) ?? { config: {}, secretKeys: [] };
        file.config[key] = value;
        file.secretKeys.push(key);
        this.stackFiles.set(name, file);
      },
    };
  }

  workspace(): PulumiWorkspace {
    return {
      createOrSelect: async (name) => {
        if (!this.stacks.has(name)) {
          this.calls.push(`create ${name}`);
          this.add(name, this.createWith);
        }
        return this.handle(name);
      },
      select: async (name) => (this.stacks.has(name) ? this.handle(name) : undefined),
      listStacks: async () =>
        [...this.stacks.entries()].map(([name, s]) => ({
          name,
          lastUpdate: s.lastUpdate,
          updateInProgress: s.updateInProgress,
        })),
    };
  }
}

export const ok = (stdout = "v3.248.0"): ProbeResult => ({ missing: false, exitCode: 0, stdout, stderr: "" });
export const missing: ProbeResult = { missing: true, exitCode: null, stdout: "", stderr: "" };
export const failing = (stderr: string, exitCode = 1): ProbeResult => ({
  missing: false,
  exitCode,
  stdout: "",
  stderr,
});

export class FakeGitHub implements PullRequestSource, GitHubWriter {
  readonly comments: { pr: number; topic: string; body: string }[] = [];
  readonly issues: { topic: string; title: string; body: string; close?: boolean }[] = [];
  constructor(readonly open: Set<number> = new Set()) {}
  async openPullRequests(): Promise<Set<number>> {
    return new Set(this.open);
  }
  async upsertComment(pr: number, topic: string, body: string): Promise<string> {
    this.comments.push({ pr, topic, body });
    return `https://github.com/o/r/pull/${pr}#issuecomment-1`;
  }
  async upsertIssue(topic: string, input: { title: string; body: string; close?: boolean }): Promise<string> {
    this.issues.push({ topic, ...input });
    return "https://github.com/o/r/issues/7";
  }
  /** Every deployment, in order, with its latest state (deactivating sets `inactive`). */
  readonly deployments: (DeploymentRecord | (Omit<DeploymentRecord, "state"> & { state: "inactive" }))[] = [];
  async recordDeployment(input: DeploymentRecord): Promise<string> {
    this.deployments.push({ ...input });
    return input.state === "success" ? (input.url ?? "") : "";
  }
  async deactivateDeployments(environment: string): Promise<number> {
    let count = 0;
    this.deployments.forEach((d, i) => {
      if (d.environment !== environment) return;
      this.deployments[i] = { ...d, state: "inactive" };
      count += 1;
    });
    return count;
  }
}

/** `<registry>/<repository>`, the key of FakeCloud's repositories. */
const repositoryKey = (r: RegistryRepository): string => `${r.registry}/${r.repository}`;

export class FakeCloud implements CloudInventory {
  readonly deleted: CloudResource[] = [];
  /** The tags in each registry repository, by `<registry>/<repository>`; deleting a tag removes it here. */
  readonly repositories = new Map<string, string[]>();
  /** Every tag deletion asked for, as `<registry>/<repository>:<tag>`, in order. */
  readonly deletedTags: string[] = [];
  /** Make deleting these tags fail (e.g. a token without registry:delete). */
  readonly refuseTags = new Set<string>();
  constructor(
    readonly apps: CloudResource[] = [],
    readonly databases: CloudResource[] = [],
    readonly projects: CloudProject[] = [],
  ) {}
  withTags(repository: string, tags: string[]): this {
    this.repositories.set(repository, [...tags]);
    return this;
  }
  async listRepositoryTags(repository: RegistryRepository): Promise<string[]> {
    return [...(this.repositories.get(repositoryKey(repository)) ?? [])];
  }
  async deleteRepositoryTag(repository: RegistryRepository, tag: string): Promise<void> {
    const key = repositoryKey(repository);
    this.deletedTags.push(`${key}:${tag}`);
    if (this.refuseTags.has(tag)) {
      throw new OpsError(`DigitalOcean API DELETE /registries/${key}/tags/${tag} answered 403`, ExitCode.failed);
    }
    this.repositories.set(
      key,
      (this.repositories.get(key) ?? []).filter((t) => t !== tag),
    );
  }
  async listApps(): Promise<CloudResource[]> {
    return this.apps;
  }
  async listDatabases(): Promise<CloudResource[]> {
    return this.databases;
  }
  async listProjects(): Promise<CloudProject[]> {
    return this.projects;
  }
  async delete(resource: CloudResource): Promise<void> {
    this.deleted.push(resource);
  }
}

export interface TestDeps extends Deps {
  readonly out: string[];
  readonly errors: string[];
  readonly files: Map<string, string>;
  readonly dirs: string[];
  readonly probeCalls: string[];
  readonly stepOutputs: Record<string, string>;
}

/** What the local stack's program outputs, and an engine where its app container runs with the given health. */
export const LOCAL_CONTAINERS = {
  postgres: "newsletter-local-postgres",
  migrate: "newsletter-local-migrate",
  app: "newsletter-local-app",
  volume: "newsletter-local-pgdata",
};
export const localOutputs = (): StackOutputs => ({
  url: { value: "http://127.0.0.1:8000", secret: false },
  containers: { value: { ...LOCAL_CONTAINERS }, secret: false },
});
export function localEngine(appHealth: "starting" | "healthy" | "unhealthy" = "healthy"): EngineState {
  const engine = emptyEngine();
  engine.containers[LOCAL_CONTAINERS.app] = {
    Status: "running",
    Running: true,
    ExitCode: 0,
    Health: { Status: appHealth },
  };
  return engine;
}

export function testDeps(
  options: {
    backend?: FakeBackend;
    env?: Record<string, string | undefined>;
    now?: Date;
    probe?: Partial<Record<"pulumi" | "docker", ProbeResult>>;
    /** The Docker engine `docker volume inspect` / `docker inspect` see; `probe.docker` overrides `docker info`. */
    engine?: EngineState;
    github?: FakeGitHub;
    cloud?: FakeCloud;
    head?: string;
  } = {},
): TestDeps {
  const backend = options.backend ?? new FakeBackend();
  const out: string[] = [];
  const errors: string[] = [];
  const files = new Map<string, string>();
  const dirs: string[] = [];
  const probeCalls: string[] = [];
  const stepOutputs: Record<string, string> = {};
  const engine = options.engine ?? emptyEngine();
  const slept: number[] = [];
  return {
    stepOutputs,
    out,
    errors,
    files,
    dirs,
    probeCalls,
    repoRoot: "/repo",
    env: options.env ?? {},
    now: () => options.now ?? new Date("2026-11-25T12:00:00Z"),
    openWorkspace: async (settings) => {
      backend.settings.push(settings);
      return backend.workspace();
    },
    probe: {
      run: async (command, args) => {
        probeCalls.push(command === "docker" && args[0] !== "info" ? `docker ${args[0]}` : command);
        if (command === "pulumi") return options.probe?.pulumi ?? ok("v3.248.0");
        if (args[0] === "info" && options.probe?.docker !== undefined) return options.probe.docker;
        const answer = dockerCli(engine, args);
        return { missing: false, exitCode: answer.code, stdout: answer.stdout, stderr: answer.stderr };
      },
    },
    sleep: async (ms) => {
      slept.push(ms);
    },
    print: (text) => out.push(text),
    progress: (text) => out.push(text),
    warn: (text) => errors.push(text),
    writeFile: async (file, content) => {
      files.set(file, content);
    },
    readFile: async (file) => {
      const content = files.get(file);
      if (content === undefined) throw new OpsError(`no such file ${file}`, ExitCode.failed);
      return content;
    },
    ensureDir: async (dir) => {
      dirs.push(dir);
    },
    gitHead: async () => options.head,
    setOutput: async (name, value) => {
      stepOutputs[name] = value;
    },
    github: () => {
      if (options.github === undefined) throw new OpsError("GITHUB_TOKEN is not set", ExitCode.prerequisite);
      return options.github;
    },
    digitalocean: () => options.cloud,
  };
}
