// The contract between a deployment and the app's configuration (configuration/*.yaml, read by
// app/src/settings.ts): APP_ENVIRONMENT picks the file, and APP_DATABASE__<KEY> overrides database.<key>.
// Every target (App Platform, the local Docker stack) builds its environment here, so they cannot drift apart.
import { VERSION_VARIABLE } from "./image";

/** How one role reaches the database. `T` is whatever the target passes: a bindable-variable string, an Output. */
export interface DatabaseConnection<T> {
  readonly host: T;
  readonly port: T;
  readonly username: T;
  readonly password: T;
  readonly databaseName: T;
  /** PEM of the CA that signed the server's certificate; verified when `require_ssl` is on. */
  readonly caCert?: T;
}

export interface EnvVar<T> {
  readonly name: string;
  readonly value: T | string;
  /** Encrypt at rest / hide in the platform's UI. */
  readonly secret: boolean;
}

/**
 * The app's own settings for one stack (config keys `appEnv` and `appSecrets`, validated in infra/config.ts): names
 * in the app's override convention, `APP_<SECTION>__<KEY>`. Secrets arrive as whatever `T` the target passes (a
 * secret Output in the Pulumi program), so their values never become plain strings here.
 */
export interface AppSettings<T> {
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, T>>;
}

export const NO_APP_SETTINGS: AppSettings<never> = Object.freeze({ env: {}, secrets: {} });

export interface EnvContractInput<T> {
  /** The configuration file the app reads on top of base.yaml. */
  readonly environment: "production" | "local";
  /** The long-running service: least privilege, it only reads and writes rows. */
  readonly service: DatabaseConnection<T>;
  /** The migration job: it creates tables, so it may connect as a more privileged user than the service. */
  readonly migrate: DatabaseConnection<T>;
  /** The stack's `appEnv` and `appSecrets`: given to the service and the migration job alike. */
  readonly app?: AppSettings<T>;
  /**
   * The version the app reports (VERSION_VARIABLE): the deployment sets it, since the image carries none, so that a
   * commit that leaves the image as it is changes no variable either.
   */
  readonly version?: string;
}

export interface EnvContract<T> {
  readonly service: readonly EnvVar<T>[];
  readonly migrate: readonly EnvVar<T>[];
}

/** The APP_* variables for one role. The order is stable, so specs built from it diff cleanly. */
export function databaseEnv<T>(
  environment: EnvContractInput<T>["environment"],
  db: DatabaseConnection<T>,
): EnvVar<T>[] {
  const vars: EnvVar<T>[] = [
    { name: "APP_ENVIRONMENT", value: environment, secret: false },
    { name: "APP_DATABASE__HOST", value: db.host, secret: false },
    { name: "APP_DATABASE__PORT", value: db.port, secret: false },
    { name: "APP_DATABASE__USERNAME", value: db.username, secret: false },
    { name: "APP_DATABASE__PASSWORD", value: db.password, secret: true },
    { name: "APP_DATABASE__DATABASE_NAME", value: db.databaseName, secret: false },
  ];
  if (db.caCert !== undefined) vars.push({ name: "APP_DATABASE__CA_CERT", value: db.caCert, secret: false });
  return vars;
}

/**
 * Set on the migration job only, when it connects as another role than the service: the service's role, to which
 * the job grants the row privileges the service needs on what the migrations create. On PostgreSQL 15 and later a
 * role created through a provider's API (DigitalOcean's database users) can't CREATE in schema `public`, so the
 * service can't create its own tables, and tables the privileged job creates belong to the job's role.
 */
export const SERVICE_USERNAME_VARIABLE = "APP_DATABASE__SERVICE_USERNAME";

/**
 * The environment of the service and of the migration job. They differ in which database credentials they carry
 * (`input.service` vs `input.migrate`): the privilege split is decided by the caller and visible here. When the
 * two roles differ, the job also learns the service's role name (never its password), to grant it access.
 */
export function envContract<T>(input: EnvContractInput<T>): EnvContract<T> {
  const migrate = databaseEnv(input.environment, input.migrate);
  if (input.service.username !== input.migrate.username) {
    migrate.push({ name: SERVICE_USERNAME_VARIABLE, value: input.service.username, secret: false });
  }
  const version: EnvVar<T>[] =
    input.version === undefined ? [] : [{ name: VERSION_VARIABLE, value: input.version, secret: false }];
  const app = appSettingsEnv(input.app ?? NO_APP_SETTINGS);
  return {
    service: [...databaseEnv(input.environment, input.service), ...version, ...app],
    migrate: [...migrate, ...version, ...app],
  };
}

/**
 * Every variable a deployment sets itself, on any target: the contract above, the local stack's overrides
 * (infra/local-spec.ts) and the version the app reports (`APP_APPLICATION__VERSION`, infra/image.ts). `appEnv` and
 * `appSecrets` may not set these: the stack's value would silently win or lose depending on the order of the envs.
 */
export const GENERATED_VARIABLES: readonly string[] = Object.freeze([
  "APP_ENVIRONMENT",
  "APP_DATABASE__HOST",
  "APP_DATABASE__PORT",
  "APP_DATABASE__USERNAME",
  "APP_DATABASE__PASSWORD",
  "APP_DATABASE__DATABASE_NAME",
  "APP_DATABASE__CA_CERT",
  "APP_DATABASE__REQUIRE_SSL",
  SERVICE_USERNAME_VARIABLE,
  "APP_APPLICATION__HOST",
  "APP_APPLICATION__PORT",
  VERSION_VARIABLE,
]);

/** The app's own variables, sorted by name so that a spec built from them diffs cleanly; secrets flagged as such. */
export function appSettingsEnv<T>(settings: AppSettings<T>): EnvVar<T>[] {
  const plain = Object.entries(settings.env).map(([name, value]) => ({ name, value, secret: false }));
  const secret = Object.entries(settings.secrets).map(([name, value]) => ({ name, value, secret: true }));
  return [...plain, ...secret].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
