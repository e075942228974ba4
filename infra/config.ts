// The stack configuration: every `newsletter:*` key, typed and validated in one place, read once, frozen.
// Pulumi.yaml documents each key with a description and a default (tests/infra/pulumi-files.test.ts keeps the two
// in step); Pulumi.<stack>.yaml holds only what differs. The stack named `local` targets the local Docker engine;
// every other stack (production, pr-<number>) targets DigitalOcean. The result is a union discriminated by `target`,
// so the DigitalOcean keys are only read, validated and required where DigitalOcean is the target.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { type AppSettings, GENERATED_VARIABLES } from "./env";
import { APP_INSTANCE_PRICES, DATABASE_NODE_PRICES, REGISTRY_TIER_PRICES } from "./prices";

export const PROJECT = "newsletter";
/** The one stack that deploys to the local Docker engine instead of DigitalOcean. */
export const LOCAL_STACK = "local";

/**
 * App Platform region slugs: the `region` enum of the app spec in DigitalOcean's OpenAPI description
 * (github.com/digitalocean/openapi, specification/resources/apps/models/app_spec.yml).
 */
export const APP_REGIONS = ["ams", "blr", "fra", "lon", "nyc", "sfo", "sgp", "syd", "tor"] as const;
export type AppRegion = (typeof APP_REGIONS)[number];

/**
 * Managed PostgreSQL datacenter slugs with shared-CPU plans, from "PostgreSQL Availability"
 * (docs.digitalocean.com/products/databases/postgresql/details/availability, generated 26 Mar 2026), limited to
 * the metros App Platform also serves so that the app and its database can share one.
 */
export const DATABASE_REGIONS = [
  "ams3",
  "blr1",
  "fra1",
  "lon1",
  "nyc1",
  "nyc2",
  "nyc3",
  "sfo2",
  "sfo3",
  "sgp1",
  "syd1",
  "tor1",
] as const;
export type DatabaseRegion = (typeof DATABASE_REGIONS)[number];

/**
 * PostgreSQL major versions offered here, for the cluster and for a PR stack's dev database alike, so previews run
 * what production runs. All are 15+, where the privilege split matters (see app-spec.ts), and so 13+, which the
 * migrations need (`gen_random_uuid()` is built in from PostgreSQL 13). The version is always pinned: left out, App
 * Platform picks a dev database's version itself, and dev databases long accepted only PostgreSQL 12
 * (LukeMathWalker/zero-to-production spec.yaml pins `version: "12"` on its dev database; issues #200 and #247 there).
 */
export const DATABASE_VERSIONS = ["15", "16", "17"] as const;

export const INSTANCE_SIZES = Object.keys(APP_INSTANCE_PRICES) as readonly string[];
export const DATABASE_SIZES = Object.keys(DATABASE_NODE_PRICES) as readonly string[];
export const REGISTRY_TIERS = Object.keys(REGISTRY_TIER_PRICES) as readonly string[];

/**
 * "The smallest plan of single node clusters" can't take standby nodes ("Managed Databases",
 * docs.digitalocean.com/products/databases, Cluster Configuration).
 */
const SMALLEST_DATABASE_SIZE = "db-s-1vcpu-1gb";

/**
 * App Platform sizes that run one instance only: `single_instance_only: true` in the API's instance-size list
 * ("Indicates if the instance size allows more than one instance", github.com/digitalocean/openapi,
 * specification/resources/apps/models/apps_instance_size.yml; the list in specification/resources/apps/responses/
 * examples.yml marks apps-s-1vcpu-0.5gb and apps-s-1vcpu-1gb-fixed). App Platform refuses such a size with an
 * instance_count above 1, after Pulumi has already built and pushed the image: refused here first.
 */
export const SINGLE_INSTANCE_ONLY_SIZES: readonly string[] = ["apps-s-1vcpu-0.5gb", "apps-s-1vcpu-1gb-fixed"];

/**
 * The service's connection pool per instance: `max` in app/src/database.ts (poolConfig), restated here because the
 * Pulumi program can't load the app's modules; tests/infra/config.test.ts keeps the two equal.
 */
export const SERVICE_POOL_SIZE = 10;

/**
 * Connections each managed PostgreSQL size accepts from clients: 25 per GiB of the node's memory, less 3 kept for
 * maintenance, so 22 on the smallest node (1 GiB): "the smallest instance type (1GB-1vCPU) ... (12/22 connections)"
 * ("How to Manage Connection Pools", docs.digitalocean.com/products/databases/postgresql/how-to/
 * manage-connection-pools; per-plan limits: "PostgreSQL Limits", docs.digitalocean.com/products/databases/
 * postgresql/details/limits). Past it, Postgres refuses with SQLSTATE 53300 (too_many_connections).
 */
export const DATABASE_CONNECTION_LIMITS: Readonly<Record<string, number>> = Object.freeze({
  "db-s-1vcpu-1gb": 22,
  "db-s-1vcpu-2gb": 47,
  "db-s-2vcpu-4gb": 97,
  "db-s-4vcpu-8gb": 197,
});

/**
 * A rolling deploy starts the new instances before it stops the old ones, so for a while both sets hold their pools
 * (App Platform replaces instances only once the new ones pass their health check). The PRE_DEPLOY job's single
 * connection comes before that, while only the old instances run, so it never adds to this peak.
 */
const ROLLING_DEPLOY_FACTOR = 2;

interface CommonConfig {
  readonly project: string;
  readonly stack: string;
  /** The version the app reports; undefined means the hash of the image's inputs (infra/version.ts). */
  readonly appVersion: string | undefined;
  /** `appEnv` and `appSecrets`: the app's own settings, for the service and the migration job. */
  readonly appSettings: AppSettings<string>;
}

export interface DevDatabaseConfig {
  /** An App Platform dev database: lives and dies with the app. */
  readonly kind: "dev";
  /** Pinned, and the same key as the cluster's, so previews run production's major version. */
  readonly version: (typeof DATABASE_VERSIONS)[number];
}

/**
 * Which clients the cluster admits. `app`: only the app, through a trusted-source rule naming its id
 * (infra/trusted-sources.ts). `open`: no rule, so any client that presents the password over TLS, which is what
 * lets a replaced app (a new id) run its first migration job; see infra/trusted-sources.ts for the procedure.
 */
export type TrustedSourcesMode = "app" | "open";

/**
 * How the migration job reaches the cluster as its admin user. `attachment`: a second database component bound as
 * `doadmin` (the cluster attached twice). `admin-secret`: one attachment, and the admin's password stored in the
 * spec as a SECRET env var; the way out should App Platform refuse the same cluster twice (infra/app-spec.ts).
 */
export type MigrationAccessMode = "attachment" | "admin-secret";

export interface ClusterDatabaseConfig {
  /** A managed PostgreSQL cluster with a database and a dedicated app user. */
  readonly kind: "cluster";
  readonly trustedSources: TrustedSourcesMode;
  readonly migrationAccess: MigrationAccessMode;
  readonly region: DatabaseRegion;
  readonly version: (typeof DATABASE_VERSIONS)[number];
  readonly size: string;
  readonly nodeCount: number;
  /** Pulumi's `protect`: refuse to delete the cluster and its database. */
  readonly protect: boolean;
}

export interface DigitalOceanStackConfig extends CommonConfig {
  readonly target: "digitalocean";
  readonly registry: {
    /** The account's DigitalOcean Container Registry (one per account, name global). */
    readonly name: string;
    /** Create it (kept when the stack is destroyed) instead of referencing an existing one. */
    readonly create: boolean;
    /** Subscription tier, used when `create` is set and for the cost estimate. */
    readonly tier: string;
  };
  /** Repository inside the registry; every stack pushes here, tagged by stack and version. */
  readonly imageRepository: string;
  /** Deploy this digest, pushed to imageRepository outside Pulumi, instead of building (`sha256:...`). */
  readonly prebuiltImageDigest: string | undefined;
  readonly region: AppRegion;
  readonly instanceSize: string;
  readonly instanceCount: number;
  readonly database: DevDatabaseConfig | ClusterDatabaseConfig;
  readonly domain: { readonly name: string; readonly zone: string | undefined } | undefined;
}

export interface LocalStackConfig extends CommonConfig {
  readonly target: "local";
  readonly postgresImage: string;
  readonly networkMode: "bridge" | "host";
  readonly keepDataOnDestroy: boolean;
  readonly port: number;
  /** Host network mode only: the loopback port Postgres listens on. */
  readonly postgresPort: number;
  /** The local Postgres password (a stack secret); required for the local stack. */
  readonly postgresPassword: string;
}

export type StackConfig = DigitalOceanStackConfig | LocalStackConfig;

/** A configuration mistake: the message names the stack, each key, the value and what is accepted. */
export class StackConfigError extends Error {
  override name = "StackConfigError";
}

// ---- Keys --------------------------------------------------------------------------------------------------------
// Every value arrives as the string the Pulumi CLI passes to the program (YAML numbers and booleans included).

const list = (values: readonly string[]) => values.join(", ");
const oneOf = (values: readonly string[]) => z.string().refine((v) => values.includes(v), `one of ${list(values)}`);
const bool = z.string().refine((v) => v === "true" || v === "false", "true or false");
const int = (min: number, max: number) =>
  z
    .string()
    .refine((v) => /^-?\d+$/.test(v) && Number(v) >= min && Number(v) <= max, `an integer from ${min} to ${max}`);
/** Lower-case letters, digits and inner hyphens, starting with a letter (registry names, domains' labels, slugs). */
const slug = (max: number) =>
  z
    .string()
    .refine(
      (v) => v.length <= max && /^[a-z]([a-z0-9-]*[a-z0-9])?$/.test(v),
      `at most ${max} lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen`,
    );
const anyString = z.string();
/** "" (the key's "none") or a value matching `pattern`; `expected` is the error's "expected ..." half. */
const emptyOr = (pattern: RegExp, expected: string) => z.string().refine((v) => v === "" || pattern.test(v), expected);

/**
 * One entry per key: its type and default (as Pulumi.yaml documents them) and what it accepts. A key applies to the
 * DigitalOcean stacks, to the local stack, or to both.
 */
export const CONFIG_KEYS = {
  appVersion: { type: "string", default: "", applies: "both", accepts: anyString },
  // DigitalOcean stacks
  registryName: {
    type: "string",
    default: "newsletter",
    applies: "digitalocean",
    // "Container Registry Limits" (docs.digitalocean.com/products/container-registry/details/limits): unique,
    // at most 63 characters, lower-case letters, numbers and hyphens, starting with a letter.
    accepts: slug(63),
  },
  createRegistry: { type: "boolean", default: "false", applies: "digitalocean", accepts: bool },
  registryTier: { type: "string", default: "basic", applies: "digitalocean", accepts: oneOf(REGISTRY_TIERS) },
  imageRepository: { type: "string", default: "newsletter", applies: "digitalocean", accepts: slug(63) },
  prebuiltImageDigest: {
    type: "string",
    default: "",
    applies: "digitalocean",
    accepts: emptyOr(/^sha256:[0-9a-f]{64}$/, 'a manifest digest "sha256:<64 hex digits>", or "" to build'),
  },
  region: { type: "string", default: "fra", applies: "digitalocean", accepts: oneOf(APP_REGIONS) },
  instanceSize: {
    type: "string",
    default: "apps-s-1vcpu-0.5gb",
    applies: "digitalocean",
    accepts: oneOf(INSTANCE_SIZES),
  },
  instanceCount: { type: "integer", default: "1", applies: "digitalocean", accepts: int(1, 10) },
  database: { type: "string", default: "dev", applies: "digitalocean", accepts: oneOf(["dev", "cluster"]) },
  databaseRegion: { type: "string", default: "fra1", applies: "digitalocean", accepts: oneOf(DATABASE_REGIONS) },
  databaseVersion: { type: "string", default: "17", applies: "digitalocean", accepts: oneOf(DATABASE_VERSIONS) },
  databaseSize: {
    type: "string",
    default: SMALLEST_DATABASE_SIZE,
    applies: "digitalocean",
    accepts: oneOf(DATABASE_SIZES),
  },
  databaseNodeCount: { type: "integer", default: "1", applies: "digitalocean", accepts: int(1, 3) },
  protectDatabase: { type: "boolean", default: "false", applies: "digitalocean", accepts: bool },
  databaseTrustedSources: {
    type: "string",
    default: "app",
    applies: "digitalocean",
    accepts: oneOf(["app", "open"]),
  },
  migrationDatabaseAccess: {
    type: "string",
    default: "attachment",
    applies: "digitalocean",
    accepts: oneOf(["attachment", "admin-secret"]),
  },
  domain: {
    type: "string",
    default: "",
    applies: "digitalocean",
    accepts: emptyOr(
      /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
      'a lower-case host name such as "newsletter.example.com", or "" for none',
    ),
  },
  domainZone: { type: "string", default: "", applies: "digitalocean", accepts: anyString },
  // The local stack
  localPostgresImage: {
    type: "string",
    default: "postgres:17",
    applies: "local",
    accepts: z.string().refine((v) => /^\S+$/.test(v), "an image reference such as postgres:17"),
  },
  localNetworkMode: { type: "string", default: "bridge", applies: "local", accepts: oneOf(["bridge", "host"]) },
  localKeepDataOnDestroy: { type: "boolean", default: "true", applies: "local", accepts: bool },
  localPort: { type: "integer", default: "8000", applies: "local", accepts: int(1, 65_535) },
  localPostgresPort: { type: "integer", default: "5432", applies: "local", accepts: int(1, 65_535) },
  // A secret (`pulumi config set --secret`): Postgres keeps the password it was initialised with in its volume.
  localPostgresPassword: { type: "string", default: "", applies: "local", accepts: anyString },
} as const satisfies Record<
  string,
  {
    /** The Pulumi.yaml `type`: how the CLI reads the value from YAML (it reaches the program as a string). */
    type: "string" | "integer" | "boolean";
    default: string;
    applies: "digitalocean" | "local" | "both";
    accepts: z.ZodType<string>;
  }
>;

export type ConfigKey = keyof typeof CONFIG_KEYS;

/**
 * Keys whose value is a map of the app's own environment variables, for every stack. Pulumi.yaml can't declare them
 * (its `config` types are scalars and arrays), so they are documented there in a comment. The CLI hands an object
 * value to the program as its JSON text. `appSecrets` is set with `--secret`, so it is stored encrypted.
 */
export const MAP_CONFIG_KEYS = ["appEnv", "appSecrets"] as const;
export type MapConfigKey = (typeof MAP_CONFIG_KEYS)[number];

const KEY_NAMES = [...(Object.keys(CONFIG_KEYS) as ConfigKey[]), ...MAP_CONFIG_KEYS];

/**
 * The app's override convention (app/src/settings.ts): `APP_`, then the section and the key separated by `__`, each
 * in upper-case letters, digits and single underscores. `APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN` sets
 * email_client.authorization_token.
 */
const APP_VARIABLE = /^APP_[A-Z0-9]+(_[A-Z0-9]+)*(__[A-Z0-9]+(_[A-Z0-9]+)*)+$/;

export interface ParseStackConfigInput {
  readonly project: string;
  readonly stack: string;
  /** The stack's `<project>:<key>` values without the namespace, as strings (what `pulumi.Config#get` returns). */
  readonly values: Readonly<Record<string, string | undefined>>;
}

/**
 * Raw values → a typed, frozen stack configuration. Pure: it reads nothing but its input. Throws StackConfigError
 * listing every problem, before any resource exists.
 */
export function parseStackConfig({ project, stack, values }: ParseStackConfigInput): StackConfig {
  const target = stack === LOCAL_STACK ? "local" : "digitalocean";
  const where = `stack "${stack}" (Pulumi.${stack}.yaml, or the defaults in Pulumi.yaml)`;
  const problems: string[] = [];

  for (const key of Object.keys(values)) {
    if (!(key in CONFIG_KEYS) && !(MAP_CONFIG_KEYS as readonly string[]).includes(key)) {
      problems.push(`${project}:${key}: unknown key; the keys are ${list(KEY_NAMES)}`);
    }
  }

  const read = (key: ConfigKey): string => {
    const spec = CONFIG_KEYS[key];
    const raw = values[key] ?? spec.default;
    const result = spec.accepts.safeParse(raw);
    if (!result.success) {
      // Stryker disable next-line StringLiteral: each key's schema has one refinement, so one issue to join.
      const expected = result.error.issues.map((issue) => issue.message).join("; ");
      problems.push(
        `${project}:${key}: ${JSON.stringify(raw)} is not accepted; ${swappedRegionHint(project, key, raw) ?? `expected ${expected}`}`,
      );
    }
    return raw;
  };

  const appVersion = read("appVersion").trim();
  const appSettings = readAppSettings(project, values, problems);
  const common = { project, stack, appVersion: appVersion === "" ? undefined : appVersion, appSettings };
  let config: StackConfig;
  if (target === "local") {
    config = {
      ...common,
      target,
      postgresImage: read("localPostgresImage"),
      networkMode: read("localNetworkMode") as LocalStackConfig["networkMode"],
      keepDataOnDestroy: read("localKeepDataOnDestroy") === "true",
      port: Number(read("localPort")),
      postgresPort: Number(read("localPostgresPort")),
      postgresPassword: read("localPostgresPassword"),
    };
    if (config.postgresPassword === "") {
      problems.push(
        `${project}:localPostgresPassword is empty; \`npm run up:local\` stores a generated one, or run ` +
          `\`pulumi config set --secret localPostgresPassword <password> --stack ${stack}\``,
      );
    }
  } else {
    const region = read("region") as AppRegion;
    const databaseRegion = read("databaseRegion") as DatabaseRegion;
    const kind = read("database");
    const size = read("databaseSize");
    const nodeCount = Number(read("databaseNodeCount"));
    const protect = read("protectDatabase") === "true";
    if (kind === "cluster") checkSameMetro(project, region, databaseRegion, problems);
    if (kind === "cluster" && nodeCount > 1 && size === SMALLEST_DATABASE_SIZE) {
      problems.push(
        `${project}:databaseNodeCount: ${nodeCount} needs standby nodes, which ${SMALLEST_DATABASE_SIZE} can't have; ` +
          `use 1, or a larger ${project}:databaseSize (${list(DATABASE_SIZES.filter((s) => s !== SMALLEST_DATABASE_SIZE))})`,
      );
    }
    const trustedSources = read("databaseTrustedSources") as TrustedSourcesMode;
    const migrationAccess = read("migrationDatabaseAccess") as MigrationAccessMode;
    for (const [key, value, fallback] of [
      ["databaseTrustedSources", trustedSources, "app"],
      ["migrationDatabaseAccess", migrationAccess, "attachment"],
    ] as const) {
      if (kind === "dev" && value !== fallback) {
        problems.push(
          `${project}:${key}: "${value}" needs ${project}:database "cluster"; a dev database has one user and no ` +
            "trusted sources of its own",
        );
      }
    }
    if (kind === "dev" && protect) {
      problems.push(
        `${project}:protectDatabase: true needs ${project}:database "cluster"; a dev database lives and dies with ` +
          "the app and can't be protected on its own",
      );
    }
    const registry = {
      name: read("registryName"),
      create: read("createRegistry") === "true",
      tier: read("registryTier"),
    };
    const imageRepository = read("imageRepository");
    const version = read("databaseVersion") as ClusterDatabaseConfig["version"];
    const instanceSize = read("instanceSize");
    const instanceCount = Number(read("instanceCount"));
    checkSingleInstanceOnly(project, instanceSize, instanceCount, problems);
    if (kind === "cluster") checkConnectionBudget(project, size, instanceCount, problems);
    const domain = read("domain");
    const zone = read("domainZone");
    config = {
      ...common,
      target,
      registry,
      imageRepository,
      prebuiltImageDigest: read("prebuiltImageDigest") || undefined,
      region,
      instanceSize,
      instanceCount,
      database:
        kind === "cluster"
          ? {
              kind: "cluster",
              region: databaseRegion,
              version,
              size,
              nodeCount,
              protect,
              trustedSources,
              migrationAccess,
            }
          : { kind: "dev", version },
      domain: domain === "" ? undefined : { name: domain, zone: zone === "" ? undefined : zone },
    };
  }

  if (problems.length > 0) {
    throw new StackConfigError(
      `Invalid configuration for ${where}:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
        `Fix it with \`pulumi config set <key> <value> --stack ${stack}\`.`,
    );
  }
  return deepFreeze(config);
}

/**
 * `appEnv` and `appSecrets`: JSON objects of `APP_<SECTION>__<KEY>` names to scalar values. A name that breaks the
 * convention, that the stack already sets (infra/env.ts GENERATED_VARIABLES) or that is in both maps is named in the
 * problems, before any resource exists. A secret's value is never quoted.
 */
function readAppSettings(
  project: string,
  values: Readonly<Record<string, string | undefined>>,
  problems: string[],
): AppSettings<string> {
  const read = (key: MapConfigKey): Record<string, string> => {
    const raw = values[key];
    if (raw === undefined || raw.trim() === "") return {};
    const secret = key === "appSecrets";
    const how = secret
      ? `pulumi config set --secret --path '${key}.APP_<SECTION>__<KEY>' <value>`
      : `pulumi config set --path '${key}.APP_<SECTION>__<KEY>' <value>`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      problems.push(`${project}:${key}: expected a map of APP_<SECTION>__<KEY> names to values (\`${how}\`)`);
      return {};
    }
    const result: Record<string, string> = {};
    for (const [name, value] of Object.entries(parsed)) {
      if (!APP_VARIABLE.test(name)) {
        problems.push(
          `${project}:${key}.${name}: not an app setting; names are APP_<SECTION>__<KEY> in upper case ` +
            "(APP_EMAIL_CLIENT__BASE_URL sets email_client.base_url)",
        );
      } else if (GENERATED_VARIABLES.includes(name)) {
        problems.push(
          `${project}:${key}.${name}: the stack sets this variable itself; the generated ones are ${list(GENERATED_VARIABLES)}`,
        );
      } else if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
        problems.push(`${project}:${key}.${name}: expected a string, number or boolean value`);
      } else {
        result[name] = String(value);
      }
    }
    return result;
  };
  const env = read("appEnv");
  const secrets = read("appSecrets");
  for (const name of Object.keys(env)) {
    if (name in secrets) {
      problems.push(`${project}:appEnv.${name} is also in ${project}:appSecrets; set it in one of them`);
    }
  }
  return { env, secrets };
}

/** App regions look like `fra`, database regions like `fra1`: when one is given for the other, say so. */
function swappedRegionHint(project: string, key: ConfigKey, raw: string): string | undefined {
  if (key === "region" && (DATABASE_REGIONS as readonly string[]).includes(raw)) {
    return (
      `it is a database region. App Platform regions are ${list(APP_REGIONS)} (here "${raw.slice(0, 3)}"); ` +
      `database regions go in ${project}:databaseRegion`
    );
  }
  if (key === "databaseRegion" && (APP_REGIONS as readonly string[]).includes(raw)) {
    // Stryker disable next-line StringLiteral: every App Platform region has a database region, so this never applies.
    const example = DATABASE_REGIONS.find((r) => r.startsWith(raw)) ?? "fra1";
    return `it is an App Platform region. Database regions are ${list(DATABASE_REGIONS)} (here "${example}")`;
  }
  return undefined;
}

/** A cluster in another metro than the app would put a cross-datacenter hop on every query. */
function checkSameMetro(project: string, region: string, databaseRegion: string, problems: string[]): void {
  const appOk = (APP_REGIONS as readonly string[]).includes(region);
  const dbOk = (DATABASE_REGIONS as readonly string[]).includes(databaseRegion);
  if (appOk && dbOk && !databaseRegion.startsWith(region)) {
    problems.push(
      `${project}:databaseRegion: "${databaseRegion}" is not in the app's region "${region}" (${project}:region); ` +
        `use one of ${list(DATABASE_REGIONS.filter((r) => r.startsWith(region)))}, or move the app`,
    );
  }
}

/** A size that can't scale, with more than one instance: App Platform would refuse the spec. */
function checkSingleInstanceOnly(project: string, size: string, count: number, problems: string[]): void {
  if (count > 1 && SINGLE_INSTANCE_ONLY_SIZES.includes(size)) {
    const scaling = INSTANCE_SIZES.filter((s) => !SINGLE_INSTANCE_ONLY_SIZES.includes(s));
    problems.push(
      `${project}:instanceCount: ${count} instances of ${project}:instanceSize "${size}", which App Platform runs ` +
        `as a single instance only; use ${project}:instanceCount 1, or a ${project}:instanceSize that scales ` +
        `(${list(scaling)})`,
    );
  }
}

/**
 * Every instance's pool, twice over during a rolling deploy, must fit in what the cluster's size accepts; otherwise
 * each deploy under load ends in SQLSTATE 53300 (too many connections).
 */
function checkConnectionBudget(project: string, size: string, count: number, problems: string[]): void {
  const limit = DATABASE_CONNECTION_LIMITS[size];
  if (limit === undefined || !Number.isInteger(count) || count < 1) return;
  const peak = count * SERVICE_POOL_SIZE * ROLLING_DEPLOY_FACTOR;
  if (peak <= limit) return;
  const fits = Math.floor(limit / (SERVICE_POOL_SIZE * ROLLING_DEPLOY_FACTOR));
  const larger = Object.entries(DATABASE_CONNECTION_LIMITS)
    .filter(([, l]) => l >= peak)
    .map(([s, l]) => `${s} accepts ${l}`);
  problems.push(
    `${project}:instanceCount: ${count} instances × ${SERVICE_POOL_SIZE} connections each (the service's pool) × ` +
      `${ROLLING_DEPLOY_FACTOR} (old and new instances side by side during a rolling deploy) = ${peak} connections, ` +
      `more than the ${limit} that ${project}:databaseSize "${size}" accepts; use ${project}:instanceCount ` +
      `${fits < 1 ? "1 with a larger size" : `${fits} or fewer`}` +
      (larger.length > 0
        ? `, or a ${project}:databaseSize with room for ${peak} (${larger.join(", ")})`
        : `, or fewer instances: no ${project}:databaseSize offered here accepts ${peak}`),
  );
}

function deepFreeze<T>(value: T): T {
  // Stryker disable next-line ConditionalExpression: no setting is null (absent ones are undefined).
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

// Stryker disable all: it reads the Pulumi runtime, which `npm run test:mutation` leaves unloaded
// (vitest.mutation.config.mts); tests/infra/program.test.ts runs it through the whole program under Pulumi's mocks.
/**
 * Read this stack's configuration once from the Pulumi runtime (the CLI, or the mocks in tests) and validate it.
 * Only the project's own namespace is read; provider settings such as `digitalocean:token` stay with the provider.
 */
export function loadStackConfig(): StackConfig {
  const project = pulumi.getProject();
  const stack = pulumi.getStack();
  const prefix = `${project}:`;
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) values[key.slice(prefix.length)] = value;
  }
  return parseStackConfig({ project, stack, values });
}
// Stryker restore all
