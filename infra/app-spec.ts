// The App Platform spec, built by one pure function from plain values: no Pulumi resources, no Outputs. The
// program feeds it the pushed image's digest and the database's names; tests/infra/spec-conformance.test.ts runs the
// result for real (Docker + Postgres) the way App Platform would.
//
// Two database traps shape the `databases` and `envs` below.
//
// 1. Privilege. On PostgreSQL 15 and later, PUBLIC no longer has CREATE on schema `public` (PostgreSQL 15 release
//    notes, "Remove PUBLIC creation permission on the public schema"; Percona's troubleshooting guide, "Starting with
//    PostgreSQL 15, non-database owners cannot access the public schema"). A user created through DigitalOcean's API
//    is such a non-owner: DigitalOcean recommends dedicated users over `doadmin` but "you currently can't set a user's
//    privileges in the control panel" (docs.digitalocean.com/products/databases/postgresql/how-to/
//    modify-user-privileges). So the PRE_DEPLOY job, which creates tables, connects as the cluster's admin user, and
//    the service connects as the dedicated app user with row privileges only, granted by the job
//    (infra/env.ts, SERVICE_USERNAME_VARIABLE). App Platform binds one user per database component (`db_user`:
//    "The name of the MySQL or PostgreSQL user to configure", github.com/digitalocean/openapi
//    specification/resources/apps/models/app_database_spec.yml), so the spec attaches the same cluster twice: `db`
//    as the app user, `db-admin` as `doadmin` (attaching with `db_user: doadmin` is common practice in published app
//    specs). A dev database has a single user that owns its database, so both roles share it.
//    No DigitalOcean document says whether one app may attach the same cluster twice. Should App Platform refuse it,
//    `newsletter:migrationDatabaseAccess admin-secret` attaches the cluster once (`db`, the app user) and gives the
//    job the admin's name and password itself: host, port, database and CA still come from `${db.*}`, the password
//    from the cluster resource (a Pulumi secret), stored as a SECRET env var. The price: the admin password lives
//    in the spec (encrypted by App Platform) and in Pulumi's state (encrypted as a secret, which also hides the
//    whole spec in previews), and App Platform reads a SECRET back encrypted, so every `pulumi up` shows the job's
//    env as changed (terraform-provider-digitalocean #514, #1603).
//
// 2. Trusted sources. A rule that names the app (`type: app`) needs the app's id, which exists only once the app's
//    first deployment is done, while the PRE_DEPLOY job of that deployment already connects
//    (terraform-provider-digitalocean issue #841, "App deployment prevents database firewall setup", open). The
//    program therefore creates the firewall after the app (infra/trusted-sources.ts): on the very first deploy the
//    cluster still accepts TLS connections that present a password, and from then on only the app.
//
// Environment values are App Platform bindable variables (`${db.HOSTNAME}`, ...): App Platform substitutes them when
// the container starts, so no password passes through the spec or Pulumi's state. They are written with string
// concatenation, never a JavaScript template literal, which would substitute `${db...}` itself.
import type { DigitalOceanStackConfig } from "./config";
import { type AppSettings, type DatabaseConnection, type EnvVar, envContract, GENERATED_VARIABLES } from "./env";
import { HEALTH_CHECK_PATH, MIGRATE_COMMAND, SERVICE_PORT } from "./image";

/** The job's password variable: the one env stored as a SECRET under `admin-secret`. */
const MIGRATE_PASSWORD_VARIABLE = "APP_DATABASE__PASSWORD";

/** Component names inside the app (App Platform: `^[a-z][a-z0-9-]{0,30}[a-z0-9]$`). */
export const COMPONENTS = Object.freeze({
  service: "web",
  migrateJob: "migrate",
  /** The database as the service's least-privileged user (and, for a dev database, the only user). */
  database: "db",
  /** The same cluster as its admin user, for the migration job only. */
  adminDatabase: "db-admin",
});

/** The job runs for seconds per deploy; the smallest size is enough and costs least. */
export const JOB_INSTANCE_SIZE = "apps-s-1vcpu-0.5gb";

/**
 * App Platform's `health_check` decides readiness only: an instance that fails it gets no traffic, but nothing
 * restarts it. `liveness_health_check` (same fields, github.com/digitalocean/openapi, specification/resources/apps/
 * models/app_service_spec.yml and app_service_spec_health_check.yml) restarts an instance that stops answering, such
 * as a process whose event loop is stuck. Both probe HEALTH_CHECK_PATH, which never touches the database
 * (app/src/routes/health-check.ts), so a database outage can't make App Platform restart healthy instances.
 * Thresholds: the server listens within a second of starting, so 10 s of grace is plenty; a probe every 10 s that
 * times out after 5 s; and six failures in a row (about a minute of silence) before a restart, so a burst of load
 * or a slow garbage collection is not mistaken for a hang. A liveness probe counts one success as alive
 * (Kubernetes requires `successThreshold: 1` for liveness, and App Platform runs on Kubernetes).
 */
export const LIVENESS_HEALTH_CHECK = Object.freeze({
  httpPath: HEALTH_CHECK_PATH,
  initialDelaySeconds: 10,
  periodSeconds: 10,
  timeoutSeconds: 5,
  successThreshold: 1,
  failureThreshold: 6,
});

/** `${component.VARIABLE}`: an App Platform bindable variable, resolved by App Platform at run time. */
export function bindable(component: string, variable: string): string {
  // biome-ignore lint/style/useTemplate: the suggested template literal would substitute `${...}` itself.
  return "$" + "{" + component + "." + variable + "}";
}

const BINDABLE = /^\$\{[a-z][a-z0-9-]*(\.[A-Za-z_][A-Za-z0-9_-]*)+\}$/;

/** Whether a value is exactly one bindable-variable reference. */
export function isBindable(value: string): boolean {
  return BINDABLE.test(value);
}

/**
 * How a role reaches the database through a database component's bindable variables: HOSTNAME, PORT, USERNAME,
 * PASSWORD, DATABASE and CA_CERT, which App Platform fills in per component at run time ("bindable app-specific and
 * component-level variables, such as the app's URL or database CA certificate values",
 * https://docs.digitalocean.com/products/app-platform/how-to/use-environment-variables).
 */
export function boundConnection(component: string): DatabaseConnection<string> {
  return {
    host: bindable(component, "HOSTNAME"),
    port: bindable(component, "PORT"),
    username: bindable(component, "USERNAME"),
    password: bindable(component, "PASSWORD"),
    databaseName: bindable(component, "DATABASE"),
    caCert: bindable(component, "CA_CERT"),
  };
}

export interface AppSpecEnv {
  readonly key: string;
  readonly value: string;
  readonly scope: "RUN_TIME";
  readonly type: "GENERAL" | "SECRET";
}

/**
 * App Platform's own ciphertext of a SECRET env: what it returns in place of the value once it has encrypted it
 * (terraform-provider-digitalocean #514, a maintainer: "You can submit a secret in plain text, but subsequent API
 * responses will return it encrypted ... the full string starting with `EV[`").
 */
export const APP_PLATFORM_CIPHERTEXT = /^EV\[\d+:[^\]]+\]$/;

/**
 * The env contract's variables as App Platform envs, chosen so that App Platform reads every one back exactly as
 * sent, so that no `pulumi up` shows a diff it did not cause.
 *
 * A SECRET env is encrypted on first submission and read back as `EV[1:...]` ("If the type is `SECRET`, the value
 * will be encrypted on first submission. On following submissions, the encrypted value should be used",
 * github.com/digitalocean/openapi specification/resources/apps/models/app_variable_definition.yml). The provider
 * stores what it reads verbatim (terraform-provider-digitalocean digitalocean/app/app_spec.go, flattenAppEnvs), so a
 * plain value sent as SECRET differs from the state on every run: every `pulumi up` updates the app and App Platform
 * redeploys it (terraform-provider-digitalocean #514, #782, #869, #1603; pulumi-digitalocean #624). Hence:
 *   - the database credentials are bindable references (`${db.PASSWORD}`), GENERAL: no secret in the spec at all; a
 *     generated secret that is not a reference is refused;
 *   - an `appSecrets` value is GENERAL, and the program passes it as a Pulumi secret: Pulumi encrypts it in the state
 *     and masks it in its output, and the provider marks every env `value` Sensitive (appSpecEnvSchema), so it comes
 *     back as a secret too. App Platform stores a GENERAL value as is and shows it to whoever can read the app;
 *   - an `appSecrets` value that already is App Platform's ciphertext (`EV[1:...]`, copied from the control panel
 *     after a first deploy) is sent as SECRET: App Platform keeps ciphertext it is given, so it reads back equal too,
 *     and the value stays encrypted at DigitalOcean as well.
 * `ignoreChanges` on the values was rejected: the engine sets each ignored property to its previous input
 * (pulumi/pulumi pkg/resource/deploy/step_generator.go, processIgnoreChanges), so a rotated secret would never reach
 * the app.
 */
export function toAppPlatformEnvs(
  vars: readonly EnvVar<string>[],
  storedSecrets: readonly string[] = [],
): AppSpecEnv[] {
  return vars.map((v) => {
    // Only where the caller chose to store the secret in the spec (see `admin-secret` above), as a SECRET env.
    if (v.secret && storedSecrets.includes(v.name) && !isBindable(v.value)) {
      return { key: v.name, value: v.value, scope: "RUN_TIME", type: "SECRET" };
    }
    if (v.secret && GENERATED_VARIABLES.includes(v.name) && !isBindable(v.value)) {
      throw new Error(
        `${v.name} is secret but its value is not a bindable variable: it would be written into the app spec`,
      );
    }
    const type = v.secret && APP_PLATFORM_CIPHERTEXT.test(v.value) ? "SECRET" : "GENERAL";
    return { key: v.name, value: v.value, scope: "RUN_TIME", type };
  });
}

export type SpecDatabase =
  | { readonly kind: "dev"; readonly version: string }
  | {
      readonly kind: "cluster";
      readonly clusterName: string;
      readonly databaseName: string;
      /** The dedicated, least-privileged user the service connects as. */
      readonly serviceUser: string;
      /** The cluster's admin user (`doadmin`), for the migration job. */
      readonly adminUser: string;
      /**
       * Set only for `migrationDatabaseAccess: admin-secret`: the admin's password. The cluster is then attached
       * once, and the job gets this password as a SECRET env instead of a second attachment's `${db-admin.*}`.
       */
      readonly adminPassword?: string;
      readonly version: string;
    };

export interface AppSpecInput {
  readonly name: string;
  readonly region: DigitalOceanStackConfig["region"];
  /**
   * The pushed image: repository in the account's DOCR registry, its manifest digest (`sha256:...`), and the version
   * the app reports (VERSION_VARIABLE): the image carries none, so that a commit that doesn't change it redeploys nothing.
   */
  readonly image: { readonly repository: string; readonly digest: string; readonly version: string };
  readonly instanceSize: string;
  readonly instanceCount: number;
  readonly database: SpecDatabase;
  readonly domain: DigitalOceanStackConfig["domain"];
  /** The stack's `appEnv` and `appSecrets`, given to the service and the migration job alike. */
  readonly appSettings?: AppSettings<string>;
}

interface ImageSource {
  readonly registryType: "DOCR";
  readonly repository: string;
  readonly digest: string;
}

/** The spec in the shape `digitalocean.App` takes (`spec`), with plain values only. */
export interface AppPlatformSpec {
  readonly name: string;
  readonly region: string;
  readonly services: {
    readonly name: string;
    readonly image: ImageSource;
    readonly httpPort: number;
    readonly instanceSizeSlug: string;
    readonly instanceCount: number;
    readonly healthCheck: { readonly httpPath: string };
    readonly livenessHealthCheck: typeof LIVENESS_HEALTH_CHECK;
    readonly envs: AppSpecEnv[];
  }[];
  readonly jobs: {
    readonly name: string;
    readonly kind: "PRE_DEPLOY";
    readonly image: ImageSource;
    readonly runCommand: string;
    readonly instanceSizeSlug: string;
    readonly instanceCount: number;
    readonly envs: AppSpecEnv[];
  }[];
  readonly databases: {
    readonly name: string;
    readonly engine: "PG";
    readonly production: boolean;
    readonly clusterName?: string;
    readonly dbName?: string;
    readonly dbUser?: string;
    readonly version?: string;
  }[];
  readonly ingress: {
    readonly rules: {
      readonly component: { readonly name: string };
      readonly match: { readonly path: { readonly prefix: string } };
    }[];
  };
  readonly alerts: { readonly rule: "DEPLOYMENT_FAILED" | "DOMAIN_FAILED" }[];
  readonly domainNames?: { readonly name: string; readonly type: "PRIMARY"; readonly zone?: string }[];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The App Platform spec for one stack. Pure and deterministic: the same input gives the same spec, so no diff. */
export function buildAppSpec(input: AppSpecInput): AppPlatformSpec {
  if (!DIGEST.test(input.image.digest)) {
    throw new Error(`buildAppSpec: image digest must look like sha256:<64 hex>, got "${input.image.digest}"`);
  }
  const image: ImageSource = { registryType: "DOCR", repository: input.image.repository, digest: input.image.digest };
  const cluster = input.database.kind === "cluster" ? input.database : undefined;

  // The privilege split: with a cluster, the job connects as the admin user, through its own attachment or (with
  // `admin-secret`) through the service's attachment plus the admin's own name and password; a dev database has
  // one user.
  const adminSecret = cluster?.adminPassword;
  const migrate: DatabaseConnection<string> =
    cluster && adminSecret !== undefined
      ? { ...boundConnection(COMPONENTS.database), username: cluster.adminUser, password: adminSecret }
      : boundConnection(cluster ? COMPONENTS.adminDatabase : COMPONENTS.database);
  const env = envContract<string>({
    environment: "production",
    service: boundConnection(COMPONENTS.database),
    migrate,
    app: input.appSettings,
    version: input.image.version,
  });

  const attach = (name: string, dbUser: string): AppPlatformSpec["databases"][number] => ({
    name,
    engine: "PG",
    production: true,
    clusterName: cluster?.clusterName,
    dbName: cluster?.databaseName,
    dbUser,
    version: cluster?.version,
  });
  const databases: AppPlatformSpec["databases"] = cluster
    ? [
        attach(COMPONENTS.database, cluster.serviceUser),
        ...(adminSecret === undefined ? [attach(COMPONENTS.adminDatabase, cluster.adminUser)] : []),
      ]
    : // A dev database, pinned to production's major version (infra/config.ts, DATABASE_VERSIONS): unpinned, App
      // Platform picks one, and for years that was PostgreSQL 12, too old for the migrations. `version` is the same
      // field for dev and production databases ("The version of the database engine", github.com/digitalocean/
      // openapi, specification/resources/apps/models/app_database_spec.yml).
      [{ name: COMPONENTS.database, engine: "PG", production: false, version: input.database.version }];

  return {
    name: input.name,
    region: input.region,
    services: [
      {
        name: COMPONENTS.service,
        image,
        httpPort: SERVICE_PORT,
        instanceSizeSlug: input.instanceSize,
        instanceCount: input.instanceCount,
        healthCheck: { httpPath: HEALTH_CHECK_PATH },
        livenessHealthCheck: LIVENESS_HEALTH_CHECK,
        envs: toAppPlatformEnvs(env.service),
      },
    ],
    // PRE_DEPLOY: runs to completion before the new version takes traffic; if it fails, the deploy stops there.
    jobs: [
      {
        name: COMPONENTS.migrateJob,
        kind: "PRE_DEPLOY",
        image,
        runCommand: MIGRATE_COMMAND,
        instanceSizeSlug: JOB_INSTANCE_SIZE,
        instanceCount: 1,
        envs: toAppPlatformEnvs(env.migrate, adminSecret === undefined ? [] : [MIGRATE_PASSWORD_VARIABLE]),
      },
    ],
    databases,
    // `ingress` rules replace the deprecated per-component `routes`.
    ingress: { rules: [{ component: { name: COMPONENTS.service }, match: { path: { prefix: "/" } } }] },
    alerts: [{ rule: "DEPLOYMENT_FAILED" }, { rule: "DOMAIN_FAILED" }],
    ...(input.domain
      ? {
          domainNames: [
            {
              name: input.domain.name,
              type: "PRIMARY" as const,
              ...(input.domain.zone ? { zone: input.domain.zone } : {}),
            },
          ],
        }
      : {}),
  };
}

/** `registry.digitalocean.com/reg/repo@sha256:...` (docker.Image's `repoDigest`) → `sha256:...`. */
export function digestOf(repoDigest: string): string {
  const at = repoDigest.lastIndexOf("@");
  // `<repository>@sha256:...`: a bare digest, or one with nothing in front of the `@`, names no image.
  // Stryker disable next-line StringLiteral: any text in place of "" fails the digest pattern just the same.
  const digest = at < 1 ? "" : repoDigest.slice(at + 1);
  if (!DIGEST.test(digest)) throw new Error(`Not a repository digest: "${repoDigest}"`);
  return digest;
}
