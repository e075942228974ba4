// The contract between a deployment and the app's configuration (configuration/*.yaml, read by
// app/src/settings.ts): APP_ENVIRONMENT picks the file, and APP_DATABASE__<KEY> overrides database.<key>.
// Every target (App Platform, the local Docker stack) builds its environment here, so they cannot drift apart.

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

export interface EnvContractInput<T> {
  /** The configuration file the app reads on top of base.yaml. */
  readonly environment: "production" | "local";
  /** The long-running service: least privilege, it only reads and writes rows. */
  readonly service: DatabaseConnection<T>;
  /** The migration job: it creates tables, so it may connect as a more privileged user than the service. */
  readonly migrate: DatabaseConnection<T>;
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
  return {
    service: databaseEnv(input.environment, input.service),
    migrate,
  };
}
