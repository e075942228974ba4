// The committed Pulumi files agree with the program: Pulumi.yaml runs infra/index.ts through ts-node with the infra
// tsconfig and documents every key with a default the program accepts, and every committed stack file passes the
// config schema.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { CONFIG_KEYS, parseStackConfig } from "../../infra/config";
import { cliConfig, REPO_ROOT } from "./support/pulumi-program";

interface ProjectFile {
  name: string;
  main: string;
  runtime: { name: string; options: Record<string, unknown> };
  config: Record<string, { type: string; description?: string; default?: unknown }>;
}

const project = parseYaml(readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as ProjectFile;
// The committed stack files only: `npm run up:local` writes an untracked, git-ignored Pulumi.local.yaml (its salt and
// encrypted password) on a developer's machine.
const stackFiles = execFileSync("git", ["ls-files", "Pulumi.*.yaml"], { cwd: REPO_ROOT, encoding: "utf8" })
  .split("\n")
  .filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f));

describe("Pulumi.yaml", () => {
  it("names the project newsletter and runs infra/index.ts with the nodejs runtime through ts-node", () => {
    expect(project.name).toBe("newsletter");
    expect(project.main).toBe("infra/index.ts");
    expect(project.runtime).toEqual({
      name: "nodejs",
      options: { typescript: true, tsconfig: "infra/tsconfig.json" },
    });
    expect(existsSync(path.join(REPO_ROOT, project.main))).toBe(true);
    expect(existsSync(path.join(REPO_ROOT, "infra/tsconfig.json"))).toBe(true);
  });

  it("lets the Pulumi CLI's Node.js host compile and type-check infra/index.ts with the project's TypeScript", () => {
    // The CLI can't be installed here (../shared/WORKPLACE.md); this runs its TypeScript set-up, from
    // @pulumi/pulumi itself, with the environment Pulumi.yaml's runtime options give it.
    const result = spawnSync(
      process.execPath,
      [path.join(__dirname, "support/pulumi-typescript-host.cjs"), project.main],
      {
        cwd: REPO_ROOT,
        encoding: "utf8",
        timeout: 120_000,
        env: {
          ...process.env,
          PULUMI_NODEJS_TYPESCRIPT: String(project.runtime.options.typescript),
          PULUMI_NODEJS_TSCONFIG_PATH: String(project.runtime.options.tsconfig),
        },
      },
    );
    expect(result.stdout, result.stderr).toMatch(/^typescript 5\.\d+\.\d+, ts-node .*\ncompiled\n/);
  }, 120_000);

  it("documents every config key with a description, its type and a default the program accepts, and no other key", () => {
    expect(Object.keys(project.config).sort()).toEqual(Object.keys(CONFIG_KEYS).sort());
    for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
      const documented = project.config[key];
      expect(documented?.description, key).toMatch(/\S{3,}/);
      expect(documented?.type, key).toBe(spec.type);
      // The value is the user's to change (their registry's name, a region): the CLI hands the program Pulumi.yaml's
      // defaults (pulumi/pulumi pkg/cmd/pulumi/config/config.go, workspace.ApplyProjectConfig), so the schema must
      // accept them, whatever they are; they need not equal the code's own fallbacks.
      expect(documented?.default, key).toBeDefined();
    }
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(cliConfig("pr-1"))) values[key.replace(/^newsletter:/, "")] = value;
    expect(() => parseStackConfig({ project: "newsletter", stack: "pr-1", values })).not.toThrow();
  });
});

describe("the committed stack files", () => {
  it("include production's", () => {
    expect(stackFiles).toContain("Pulumi.production.yaml");
  });

  it.each(stackFiles)("%s passes the config schema and sets only what differs from the defaults", (file) => {
    const stack = file.slice("Pulumi.".length, -".yaml".length);
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(cliConfig(stack))) {
      if (key.startsWith("newsletter:")) values[key.slice("newsletter:".length)] = value;
    }
    // The local stack's password is a secret set at run time (`npm run up:local`), never committed.
    if (stack === "local" && values.localPostgresPassword === "") values.localPostgresPassword = "set-at-run-time";
    expect(() => parseStackConfig({ project: "newsletter", stack, values })).not.toThrow();

    const own = (parseYaml(readFileSync(path.join(REPO_ROOT, file), "utf8")) as { config?: Record<string, unknown> })
      ?.config;
    for (const [key, value] of Object.entries(own ?? {})) {
      const name = key.replace(/^newsletter:/, "");
      const documented = project.config[name];
      if (documented) expect(String(value), `${file} ${key} repeats the default`).not.toBe(String(documented.default));
    }
  });
});
