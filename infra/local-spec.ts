// What the `local` stack runs on the developer's own Docker engine, as plain data: the image, the Postgres, migration
// and app containers, their names, environment, health checks and networking. Pure: no Pulumi resources, no
// environment reads. infra/local.ts turns this into @pulumi/docker resources; the tests run it with the real engine.
import { type AppSettings, type DatabaseConnection, type EnvVar, envContract, NO_APP_SETTINGS } from "./env";
import {
  HEALTH_CHECK_PATH,
  type ImageBuildSettings,
  imageBuildSettings,
  MIGRATE_ARGV,
  SERVICE_PORT,
  VERSION_VARIABLE,
} from "./image";
import { physicalName } from "./naming";

export type LocalNetworkMode = "bridge" | "host";

export interface LocalSettings {
  /** The Pulumi project and stack: every Docker name starts with `<project>-<stack>`. */
  readonly project: string;
  readonly stack: string;
  /**
   * `bridge`: a user-defined network; Postgres is reachable only inside it, the app is published on 127.0.0.1.
   * `host`: every container shares the host's network and binds 127.0.0.1 itself, for engines that allow no bridges.
   */
  readonly networkMode: LocalNetworkMode;
  /** Where the app answers on the developer's machine: http://127.0.0.1:<port>. */
  readonly port: number;
  /** The Postgres image, e.g. the official `postgres:17`. */
  readonly postgresImage: string;
  /** Host mode only: the loopback port Postgres listens on (in bridge mode it is private to the network). */
  readonly postgresPort: number;
  /** The version the app reports; by default the hash of the image's inputs, which also tags the image. */
  readonly appVersion?: string;
  /** Base-image overrides for the build (a mirror of the official images); never a secret. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** The engine's CPU architecture as Node names it (`process.arch`): the image is built for it, not emulated. */
  readonly arch: string;
}

/**
 * Docker names for one stack. Container names are also the hosts other containers resolve on a user-defined network,
 * so they are kept to one DNS label: at most 63 characters (RFC 1035 §2.3.4).
 */
const DOCKER_NAME_MAX_LENGTH = 63;

export interface LocalNames {
  readonly network: string;
  readonly volume: string;
  readonly imageRepository: string;
  readonly postgres: string;
  readonly migrate: string;
  readonly app: string;
}

export function localNames(project: string, stack: string): LocalNames {
  const name = (suffix: string) => physicalName({ project, stack, suffix, maxLength: DOCKER_NAME_MAX_LENGTH });
  return Object.freeze({
    network: name("net"),
    volume: name("pgdata"),
    imageRepository: name("app"),
    postgres: name("postgres"),
    migrate: name("migrate"),
    app: name("app"),
  });
}

/**
 * The database the local Postgres container creates on first start, and the role the service and the migrations use.
 * Locally both connect as the one role the container creates (its superuser): the least-privilege split that the
 * managed database needs (infra/env.ts) protects nothing on a throwaway database on your own machine.
 */
export const LOCAL_DATABASE = Object.freeze({ username: "newsletter", databaseName: "newsletter" });

/** The Postgres port inside the container: the official image's default, private to the user-defined network. */
const POSTGRES_DEFAULT_PORT = 5432;

/**
 * Where the volume is mounted, and PGDATA set to the same path. Postgres 17's image keeps its data there; 18+ moved
 * PGDATA to /var/lib/postgresql/18/docker and refuses to start when something is mounted at the old path unless
 * PGDATA points at it (https://github.com/docker-library/postgres/pull/1259, and the fix in
 * https://github.com/stacklok/toolhive-registry-server/issues/773). Setting both keeps a configured `postgres:18` working.
 */
const POSTGRES_DATA_PATH = "/var/lib/postgresql/data";

/**
 * The runtime image's node binary (the first word of the migrate command): distroless has no curl and the image's
 * /bin/sh is there only for App Platform, so the health check is exec-form node.
 */
const RUNTIME_NODE = MIGRATE_ARGV[0];

export interface HealthcheckSpec {
  /** Exec form: `["CMD", argv...]`, no shell involved. */
  readonly test: readonly string[];
  readonly interval: string;
  readonly timeout: string;
  readonly retries: number;
  readonly startPeriod: string;
}

export interface ContainerSpec<T> {
  readonly name: string;
  readonly env: readonly EnvVar<T>[];
  /** Replaces the image's ENTRYPOINT (and with it its CMD), like App Platform's `run_command` does. */
  readonly entrypoint?: readonly string[];
  /** Replaces the image's CMD, after its ENTRYPOINT. */
  readonly command?: readonly string[];
  readonly healthcheck?: HealthcheckSpec;
  readonly restart: "no" | "on-failure" | "unless-stopped";
  /** Published on the host (bridge mode only; in host mode the process binds the host's port itself). */
  readonly ports: readonly { readonly internal: number; readonly external: number; readonly ip: string }[];
  readonly volumes: readonly { readonly volumeName: string; readonly containerPath: string }[];
  /** A one-shot container: the deployment waits for it to exit, and the app starts only after it exited 0. */
  readonly runToCompletion: boolean;
  /** Seconds `docker stop` waits before killing, so Postgres checkpoints and the app drains on destroy. */
  readonly stopGraceSeconds: number;
}

export interface LocalImageSpec {
  /** `<repository>:<tag>`, never pushed: the containers run the built image by its ID. */
  readonly imageName: string;
  readonly build: ImageBuildSettings;
  /** The network the build's RUN steps use: `host` in host mode, where the engine has no bridge to give them. */
  readonly buildNetwork?: "host";
}

export interface LocalDeploymentSpec<T> {
  readonly names: LocalNames;
  readonly image: LocalImageSpec;
  /** The user-defined network to create, or undefined in host mode. */
  readonly network?: string;
  readonly postgres: ContainerSpec<T>;
  readonly migrate: ContainerSpec<T>;
  readonly app: ContainerSpec<T>;
  readonly url: string;
}

/** `x64` → `linux/amd64`: the image is built for the machine it runs on (an amd64-only build would run emulated). */
export function nativePlatform(arch: string): string {
  const platforms: Record<string, string> = { x64: "linux/amd64", arm64: "linux/arm64" };
  const platform = platforms[arch];
  if (platform === undefined) {
    throw new Error(`local stack: no Docker platform for the CPU architecture "${arch}" (known: x64, arm64)`);
  }
  return platform;
}

/** Where the app and the migrations find Postgres: by container name on the network, or on loopback in host mode. */
export function localDatabaseConnection<T>(
  settings: LocalSettings,
  names: LocalNames,
  password: T,
): DatabaseConnection<T | string> {
  const host = settings.networkMode === "host";
  return {
    host: host ? "127.0.0.1" : names.postgres,
    port: String(host ? settings.postgresPort : POSTGRES_DEFAULT_PORT),
    username: LOCAL_DATABASE.username,
    password,
    databaseName: LOCAL_DATABASE.databaseName,
  };
}

/**
 * The app's environment: the same contract App Platform gets (infra/env.ts), with literal values instead of bindable
 * variables, plus the overrides a local container needs. APP_ENVIRONMENT is `production`, like the image's default
 * and App Platform: the local stack runs the deployed configuration, not the developer one (local.yaml binds
 * 127.0.0.1, which a published container port cannot reach). What differs from App Platform is explicit here:
 *   - APP_DATABASE__REQUIRE_SSL=false: production.yaml requires TLS, and a local Postgres container serves none;
 *   - host mode: APP_APPLICATION__HOST/PORT, since no port is published and 0.0.0.0 would expose the app to the LAN.
 */
export function localAppEnv<T>(
  settings: LocalSettings,
  names: LocalNames,
  password: T,
  app: AppSettings<T> = NO_APP_SETTINGS,
): { readonly service: readonly EnvVar<T | string>[]; readonly migrate: readonly EnvVar<T | string>[] } {
  const connection = localDatabaseConnection(settings, names, password);
  const contract = envContract<T | string>({
    environment: "production",
    service: connection,
    migrate: connection,
    app,
  });
  const overrides: EnvVar<string>[] = [{ name: "APP_DATABASE__REQUIRE_SSL", value: "false", secret: false }];
  if (settings.networkMode === "host") {
    overrides.push(
      { name: "APP_APPLICATION__HOST", value: "127.0.0.1", secret: false },
      { name: "APP_APPLICATION__PORT", value: String(settings.port), secret: false },
    );
  }
  return { service: [...contract.service, ...overrides], migrate: [...contract.migrate, ...overrides] };
}

/** Docker's `KEY=VALUE` form of an environment list. */
export function dockerEnv(vars: readonly EnvVar<string>[]): string[] {
  return vars.map((v) => `${v.name}=${v.value}`);
}

/** The whole local deployment, with the Postgres password as whatever `T` the caller has (a secret Output in Pulumi). */
export function localDeploymentSpec<T>(
  settings: LocalSettings,
  password: T,
  appSettings: AppSettings<T> = NO_APP_SETTINGS,
): LocalDeploymentSpec<T | string> {
  const names = localNames(settings.project, settings.stack);
  const host = settings.networkMode === "host";
  if (host && settings.port === settings.postgresPort) {
    throw new Error(
      `local stack "${settings.stack}": in host network mode the app and Postgres both bind 127.0.0.1, so ` +
        `localPort and localPostgresPort must differ (both are ${settings.port}); change one in Pulumi.${settings.stack}.yaml`,
    );
  }
  const build = imageBuildSettings({ platform: nativePlatform(settings.arch), buildArgs: settings.buildArgs });
  const version: EnvVar<string> = {
    name: VERSION_VARIABLE,
    value: settings.appVersion ?? build.version,
    secret: false,
  };
  const env = localAppEnv(settings, names, password, appSettings);
  // The port the server binds inside its network namespace; in host mode that namespace is the machine's.
  const appPort = host ? settings.port : SERVICE_PORT;
  const postgresPort = host ? settings.postgresPort : POSTGRES_DEFAULT_PORT;

  const postgres: ContainerSpec<T | string> = {
    name: names.postgres,
    // The official image's contract: it creates this role and database on first start, in an empty PGDATA.
    env: [
      { name: "POSTGRES_USER", value: LOCAL_DATABASE.username, secret: false },
      { name: "POSTGRES_PASSWORD", value: password, secret: true },
      { name: "POSTGRES_DB", value: LOCAL_DATABASE.databaseName, secret: false },
      { name: "PGDATA", value: POSTGRES_DATA_PATH, secret: false },
    ],
    // In host mode Postgres shares the machine's network: loopback only, on the configured port.
    command: ["postgres", "-c", `listen_addresses=${host ? "127.0.0.1" : "*"}`, "-c", `port=${postgresPort}`],
    healthcheck: {
      // Over TCP, not the socket: during first-start initialisation the image runs a socket-only server, which must
      // not count as ready. Exit 0 means "accepting connections".
      test: [
        "CMD",
        "pg_isready",
        "--host=127.0.0.1",
        `--port=${postgresPort}`,
        `--username=${LOCAL_DATABASE.username}`,
        `--dbname=${LOCAL_DATABASE.databaseName}`,
      ],
      interval: "2s",
      timeout: "5s",
      retries: 30,
      startPeriod: "5s",
    },
    restart: "unless-stopped",
    ports: [],
    volumes: [{ volumeName: names.volume, containerPath: POSTGRES_DATA_PATH }],
    runToCompletion: false,
    // The official image stops Postgres with SIGINT (fast shutdown); give it time to write a checkpoint.
    stopGraceSeconds: 30,
  };

  const migrate: ContainerSpec<T | string> = {
    name: names.migrate,
    env: [...env.migrate, version],
    // The same argv App Platform's PRE_DEPLOY job runs, in place of the image's entrypoint.
    entrypoint: [...MIGRATE_ARGV],
    restart: "no",
    ports: [],
    volumes: [],
    runToCompletion: true,
    stopGraceSeconds: 0,
  };

  const probe = `http://127.0.0.1:${appPort}${HEALTH_CHECK_PATH}`;
  const app: ContainerSpec<T | string> = {
    name: names.app,
    env: [...env.service, version],
    healthcheck: {
      test: [
        "CMD",
        RUNTIME_NODE,
        "-e",
        `fetch(${JSON.stringify(probe)}).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
      ],
      interval: "5s",
      timeout: "3s",
      retries: 3,
      startPeriod: "10s",
    },
    restart: "on-failure",
    ports: host ? [] : [{ internal: SERVICE_PORT, external: settings.port, ip: "127.0.0.1" }],
    volumes: [],
    runToCompletion: false,
    // Above the app's shutdown_grace_seconds (configuration/base.yaml), so a destroy drains instead of killing.
    stopGraceSeconds: 10,
  };

  const image: LocalImageSpec = {
    // Tagged with the hash of the image's inputs, like the DigitalOcean stacks' images: an unchanged tree gives the same
    // name and build inputs, so nothing is rebuilt; a new hash leaves the old image for `docker image prune`.
    imageName: `${names.imageRepository}:${build.version}`,
    build,
    ...(host ? { buildNetwork: "host" as const } : {}),
  };

  return {
    names,
    image,
    ...(host ? {} : { network: names.network }),
    postgres,
    migrate,
    app,
    url: `http://127.0.0.1:${settings.port}`,
  };
}
