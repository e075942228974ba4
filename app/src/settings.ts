// The one place that reads configuration: configuration/base.yaml, then configuration/<environment>.yaml, then
// APP_<SECTION>__<KEY> environment variables, validated against one schema into a typed, frozen object.
// Entry points pass `process.env` in; nothing else in the app reads the environment.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
import * as z from "zod";

/** Environment variables that set a key: `APP_DATABASE__HOST` → database.host (`__` separates levels). */
const OVERRIDE_PREFIX = "APP_";
const LEVEL_SEPARATOR = "__";
export const DEFAULT_ENVIRONMENT = "local";

/** Plain decimal digits with an optional sign: what a person means by an integer in an environment variable. */
const DECIMAL_INTEGER = /^[+-]?\d+$/;

/**
 * `" 8080 "` → 8080. Any other string stays a string, for the schema to refuse with the variable's name: Number()
 * would also read "0x1F" as 31, "1e3" as 1000 and "80.0" as 80, which nobody writes on purpose for a port.
 */
function coerceInteger(value: unknown): unknown {
  // Stryker disable next-line MethodExpression: Number() ignores the white space that trim() removes.
  return typeof value === "string" && DECIMAL_INTEGER.test(value.trim()) ? Number(value.trim()) : value;
}

/** An empty variable counts as unset (`APP_ENVIRONMENT=` in a shell, a build without `--build-arg APP_VERSION`). */
function emptyAsUnset<T>(value: T): T | undefined {
  return value === "" ? undefined : value;
}

// Values from environment variables are strings; these turn them into the schema's types. YAML values arrive typed
// and pass through. `describe` is the "expected ..." half of every error message, so it reads as a type.
// Stryker disable next-line ArrowFunction: without it the module fails to load, which StrykerJS's vitest runner
// (9.6.1) reports as a survived mutant, since no test ran.
const integer = (min: number, max: number) =>
  z.preprocess(coerceInteger, z.number().int().min(min).max(max)).describe(`an integer from ${min} to ${max}`);
const port = integer(1, 65_535).describe("a port number (an integer from 1 to 65535)");
const text = z.string().min(1).describe("a non-empty string");
const boolean = z
  .preprocess((v) => (typeof v === "boolean" ? String(v) : v), z.stringbool())
  .describe("a boolean (true or false)");
const httpUrl = z.url({ protocol: /^https?$/ }).describe("an http:// or https:// URL");
const email = z.email().describe("an email address");
const optionalText = z
  .preprocess((v) => (v === null ? undefined : emptyAsUnset(v)), z.string().optional())
  .describe("a string");

const SettingsSchema = z.strictObject({
  application: z.strictObject({
    port,
    host: text,
    // Empty counts as unset: a build without `--build-arg APP_VERSION=...` must still start.
    // Stryker disable next-line StringLiteral: `text` has a description, so the fallback never applies.
    version: z.preprocess(emptyAsUnset, text.default("dev")).describe(text.description ?? ""),
    shutdown_grace_seconds: integer(0, 3_600),
    // pino's levels (https://getpino.io/#/docs/api?id=levels). `debug` adds a line for every successful health
    // check; `warn` drops the line of every request that succeeded.
    log_level: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info")
      .describe("a log level (fatal, error, warn, info, debug, trace or silent)"),
  }),
  database: z.strictObject({
    host: text,
    port,
    username: text,
    password: z.string().describe("a string"),
    database_name: text,
    require_ssl: boolean,
    /** PEM of the CA that signed the server's certificate; with require_ssl, the certificate is verified. */
    ca_cert: optionalText,
    /**
     * Migration job only: the role the service connects as, when it differs from `username`. After migrating, the
     * job grants it row access to the tables (infra/env.ts SERVICE_USERNAME_VARIABLE explains why).
     */
    service_username: optionalText,
  }),
  /**
   * The email delivery API the newsletter will send through (Zero To Production, chapter 7: `EmailClientSettings`,
   * a Postmark-style REST API). Deployed stacks set the token with `appSecrets`
   * (APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN) and the sender with `appEnv`.
   */
  email_client: z.strictObject({
    base_url: httpUrl,
    sender_email: email,
    authorization_token: text,
    timeout_milliseconds: integer(1, 600_000),
  }),
});

type DeepReadonly<T> = { readonly [K in keyof T]: T[K] extends object ? DeepReadonly<T[K]> : T[K] };
export type Settings = DeepReadonly<z.output<typeof SettingsSchema>>;
export type DatabaseSettings = Settings["database"];

/** A configuration mistake, with a message that names where the value came from, the key and what was expected. */
export class SettingsError extends Error {
  override name = "SettingsError";
}

export interface LoadSettingsInput {
  /** The folder holding base.yaml and one `<environment>.yaml` per environment. */
  readonly dir: string;
  /** Which `<environment>.yaml` to layer on base.yaml. Default: `env.APP_ENVIRONMENT` unless empty, then `local`. */
  readonly environment?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

type Tree = { [key: string]: unknown };

/** Files + environment → typed, frozen settings. Throws SettingsError with every problem found. */
export function loadSettings({ dir, environment, env }: LoadSettingsInput): Settings {
  const available = listEnvironments(dir);
  const chosen = environment ?? emptyAsUnset(env.APP_ENVIRONMENT) ?? DEFAULT_ENVIRONMENT;
  if (!available.includes(chosen)) {
    throw new SettingsError(
      `Unknown APP_ENVIRONMENT "${chosen}": the environments available are ${available.join(", ")} ` +
        `(the *.yaml files in ${dir} besides base.yaml).`,
    );
  }

  // Where each leaf came from ("application.port" → the file or variable that set it last), for error messages.
  const origins = new Map<string, string>();
  const merged: Tree = {};
  for (const file of ["base.yaml", `${chosen}.yaml`]) {
    const path = join(dir, file);
    mergeInto(merged, readYaml(path), [], path, origins);
  }
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    const keyPath = overrideKeyPath(name);
    if (keyPath === undefined || value === undefined) continue;
    mergeInto(merged, nest(keyPath, value), [], name, origins);
  }

  const result = SettingsSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => describeIssue(issue, origins, chosen, dir));
    throw new SettingsError(`Invalid settings:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  // base.yaml's password is a development default, and it ships in the image: a deployed environment that forgot
  // APP_DATABASE__PASSWORD would otherwise start and answer 503 forever. Only `local` may use it.
  const basePath = join(dir, "base.yaml");
  if (chosen !== DEFAULT_ENVIRONMENT && origins.get("database.password") === basePath) {
    throw new SettingsError(
      `Invalid settings:\n  - database.password is the development default of ${basePath}: the ${chosen} ` +
        "environment needs its own, from APP_DATABASE__PASSWORD",
    );
  }
  return deepFreeze(result.data);
}

/** The environments a folder offers: every `<name>.yaml` except base.yaml, sorted. */
export function listEnvironments(dir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (error) {
    throw new SettingsError(`Cannot read the configuration folder ${dir}: ${(error as Error).message}`);
  }
  return files
    .filter((f) => f.endsWith(".yaml") && f !== "base.yaml")
    .map((f) => f.slice(0, -".yaml".length))
    .sort();
}

/** `APP_DATABASE__CA_CERT` → ["database", "ca_cert"]; variables without `__` (APP_ENVIRONMENT) are not overrides. */
function overrideKeyPath(name: string): string[] | undefined {
  if (!name.startsWith(OVERRIDE_PREFIX) || !name.includes(LEVEL_SEPARATOR)) return undefined;
  return name.slice(OVERRIDE_PREFIX.length).toLowerCase().split(LEVEL_SEPARATOR);
}

function readYaml(path: string): Tree {
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch (error) {
    throw new SettingsError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(source);
  } catch (error) {
    throw new SettingsError(`${path} is not valid YAML: ${yamlErrorSummary(error)}`);
  }
  // Stryker disable next-line ConditionalExpression: parse() gives null for an empty file, never undefined
  // (eemeli/yaml src/public-api.ts, parse); the check is for the type.
  if (parsed === null || parsed === undefined) return {};
  if (!isTree(parsed)) throw new SettingsError(`${path}: expected a mapping of sections at the top level`);
  return parsed;
}

/**
 * Where and what, without the source: the yaml library's message quotes the offending lines (and some of its
 * descriptions quote a token), which in a configuration file may be a password. Its codes are a fixed vocabulary
 * (https://eemeli.org/yaml/#errors), so `BAD_INDENT at line 3, column 5` says enough to find the mistake.
 */
// Stryker disable StringLiteral,OptionalChaining,ConditionalExpression: parse() throws Errors only, and it gives
// every error whose position is known a linePos (eemeli/yaml src/errors.ts, prettifyError); no file was found that
// reaches the fallbacks, which are kept for what a later yaml version may throw.
function yamlErrorSummary(error: unknown): string {
  if (!(error instanceof YAMLParseError)) return error instanceof Error ? error.name : "unknown error";
  const start = error.linePos?.[0];
  return start === undefined ? error.code : `${error.code} at line ${start.line}, column ${start.col}`;
}
// Stryker restore StringLiteral,OptionalChaining,ConditionalExpression

function nest(path: readonly string[], value: string): Tree {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Tree;
}

function mergeInto(target: Tree, source: Tree, path: string[], origin: string, origins: Map<string, string>): void {
  for (const [key, value] of Object.entries(source)) {
    const keyPath = [...path, key];
    const existing = target[key];
    if (isTree(value) && isTree(existing)) {
      mergeInto(existing, value, keyPath, origin, origins);
      continue;
    }
    target[key] = isTree(value) ? structuredClone(value) : value;
    recordOrigins(value, keyPath, origin, origins);
  }
}

function recordOrigins(value: unknown, path: string[], origin: string, origins: Map<string, string>): void {
  origins.set(path.join("."), origin);
  if (isTree(value)) for (const [k, v] of Object.entries(value)) recordOrigins(v, [...path, k], origin, origins);
}

function describeIssue(issue: z.core.$ZodIssue, origins: Map<string, string>, environment: string, dir: string) {
  const path = issue.path.map(String);
  const key = path.join(".");
  if (issue.code === "unrecognized_keys") {
    const known = Object.keys(shapeAt(path) ?? {}).join(", ");
    return issue.keys
      .map((k) => {
        const unknownKey = [...path, k].join(".");
        return `${unknownKey} (from ${origins.get(unknownKey)}): unknown key; the keys here are ${known}`;
      })
      .join("\n  - ");
  }
  const origin = origins.get(key);
  const expected = schemaAt(path)?.description ?? issue.message;
  if (origin === undefined) {
    const variable = `${OVERRIDE_PREFIX}${path.join(LEVEL_SEPARATOR).toUpperCase()}`;
    return (
      `${key} is not set (in ${join(dir, "base.yaml")}, ${join(dir, `${environment}.yaml`)} or ${variable}): ` +
      `expected ${expected}`
    );
  }
  return `${key} (from ${origin}): expected ${expected}`;
}

function shapeAt(path: readonly string[]): Record<string, z.ZodType> | undefined {
  let schema: z.ZodType | undefined = SettingsSchema;
  for (const key of path)
    schema = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>)[key] : undefined;
  return schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : undefined;
}

// Stryker disable all: issues other than unknown keys come with a path of two keys (a setting) or one (a section
// that is not a mapping, whose schema has no description either way), so no change here alters a message.
function schemaAt(path: readonly string[]): z.ZodType | undefined {
  const parent = shapeAt(path.slice(0, -1));
  const last = path.at(-1);
  return parent && last !== undefined ? parent[last] : undefined;
}
// Stryker restore all

function isTree(value: unknown): value is Tree {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (isTree(value)) for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value) as DeepReadonly<T>;
}
