// Pulumi.yaml as the Pulumi CLI reads it for config: the project's name and the defaults its `config` block declares.
// Shared by everything here that stands in for the CLI, so that one reading of the merge rule serves them all.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

export interface ProjectFile {
  readonly name: string;
  /** `<namespace>:<key>` → the default as the CLI passes config values on: a string. */
  readonly defaults: Readonly<Record<string, string>>;
}

/** A config value as a string, the form in which the CLI hands every value to the program. */
export function asConfigString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * Keys declared in Pulumi.yaml without a namespace belong to the project (`<project>:<key>`), and the CLI lists and
 * passes their `default` wherever the stack sets no value of its own (pulumi/pulumi v3.248.0,
 * sdk/go/common/workspace/config.go, ApplyProjectConfig; used by `pulumi config`, `config get` and every update).
 */
export function readProject(dir: string): ProjectFile {
  const project = parseYaml(readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as {
    name: string;
    config?: Record<string, { default?: unknown }>;
  };
  const defaults: Record<string, string> = {};
  for (const [key, spec] of Object.entries(project.config ?? {})) {
    if (spec.default !== undefined)
      defaults[key.includes(":") ? key : `${project.name}:${key}`] = asConfigString(spec.default);
  }
  return { name: project.name, defaults };
}
