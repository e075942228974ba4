// The App Platform spec the program produces (under mocks), run the way App Platform runs it, on a real Docker
// engine and a real PostgreSQL that serves TLS: this is what shows that the infrastructure and the app agree.
//
// What stands in for DigitalOcean here, and the platform behaviour it reproduces:
// - the image is built with the settings the program gives docker.Image (plus the stand-in base images), where App
//   Platform would pull the same build by digest from DOCR;
// - each database component's bindable variables (`${db.HOSTNAME}`, ...) resolve against the test server. A
//   cluster component binds its `db_user` and `db_name`; the cluster's admin is `doadmin`, which owns the databases
//   created through the API ("By default, PostgreSQL database clusters come with a user, doadmin, which has full
//   access to every database you create", docs.digitalocean.com/products/databases/postgresql/how-to/
//   modify-user-privileges), while an API-created user is a plain login role, without CREATE on `public` on
//   PostgreSQL 15+. A dev database has one user, named like the component, that owns its database;
// - the PRE_DEPLOY job's `run_command` must exit 0 before the service starts. App Platform doesn't document how it
//   applies a run command to an image (github.com/digitalocean/openapi, specification/resources/apps/models/
//   app_component_base.yml: "An optional run command to override the component's default"), so the job runs under
//   each way a platform could (RUN_COMMAND_MODELS): in place of the ENTRYPOINT, in place of CMD with the ENTRYPOINT
//   kept (Kubernetes `args`), and through `/bin/sh -c`, as the command or as the arguments;
// - a cluster's database is set up as DigitalOcean's API leaves it: owned by `doadmin`, the app user a bare login
//   role ("New users receive minimal permissions by default"), and CONNECT revoked from PUBLIC, so the app user
//   gets in only through the job's grants;
// - the service runs the image's own command with the service's envs, and answers on `http_port`, where the health
//   check probes `health_check.http_path`.
// Containers use the host's network only (../shared/WORKPLACE.md), so `http_port` is a port on 127.0.0.1.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AppPlatformSpec } from "../../infra/app-spec";
import {
  buildFromProgramSettings,
  describeWithDocker,
  docker,
  dockerRaw,
  type ProgramBuildSettings,
  removeQuietly,
} from "../support/docker";
import { waitFor200, waitForFreePort } from "../support/ports";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { cliConfig, type ProgramRun, runProgram } from "./support/pulumi-program";

/** The admin user DigitalOcean creates with every managed database cluster. */
const CLUSTER_ADMIN = "doadmin";
const APP_VERSION = "c0ffee0123456789abcdef0123456789abcdef01";

/** The spec and the image build settings from one mocked run of the program. */
async function programFor(
  stack: string,
): Promise<{ run: ProgramRun; spec: AppPlatformSpec; build: ProgramBuildSettings }> {
  const run = await runProgram(stack, { ...cliConfig(stack), "newsletter:appVersion": APP_VERSION });
  const app = run.resources.find((r) => r.type === "digitalocean:index/app:App");
  const image = run.resources.find((r) => r.type === "docker:index/image:Image");
  if (!app || !image) throw new Error(`the ${stack} program registered no app or no image`);
  return { run, spec: app.inputs.spec as AppPlatformSpec, build: image.inputs.build as ProgramBuildSettings };
}

/** One database role, as DigitalOcean would have made it. */
interface Role {
  readonly name: string;
  readonly password: string;
}

/** What App Platform would bind for each database component of a spec, on the test server. */
interface Bindings {
  readonly values: ReadonlyMap<string, string>;
  /** Roles and the database each component binds, to inspect afterwards. */
  readonly components: ReadonlyMap<string, { role: Role; database: string }>;
}

const newPassword = () => randomBytes(18).toString("base64url");

/**
 * Create the roles and databases the spec's `databases` imply, with the privileges DigitalOcean gives them, and
 * return every bindable variable App Platform would resolve for them.
 */
async function provision(pg: TestPostgres, spec: AppPlatformSpec): Promise<Bindings> {
  const admin = await pg.client("postgres");
  const roles = new Map<string, Role>();
  const role = async (name: string, attributes: string): Promise<Role> => {
    const existing = roles.get(name);
    if (existing) return existing;
    const created = { name, password: newPassword() };
    await admin.query(`CREATE ROLE ${ident(name)} LOGIN ${attributes} PASSWORD '${created.password}'`);
    roles.set(name, created);
    return created;
  };
  const databases = new Set<string>();
  const database = async (name: string, owner: string) => {
    if (databases.has(name)) return;
    await admin.query(`CREATE DATABASE ${ident(name)} OWNER ${ident(owner)}`);
    databases.add(name);
  };

  const values = new Map<string, string>();
  const components = new Map<string, { role: Role; database: string }>();
  try {
    for (const component of spec.databases) {
      let bound: { role: Role; database: string };
      if (component.production) {
        // A cluster: doadmin owns the databases created through the API; other users are plain login roles.
        const clusterAdmin = await role(CLUSTER_ADMIN, "CREATEDB CREATEROLE");
        const dbName = component.dbName ?? "defaultdb";
        if (!databases.has(dbName)) {
          await database(dbName, clusterAdmin.name);
          await admin.query(`REVOKE CONNECT ON DATABASE ${ident(dbName)} FROM PUBLIC`);
        }
        const user = component.dbUser ?? CLUSTER_ADMIN;
        bound = { role: user === CLUSTER_ADMIN ? clusterAdmin : await role(user, ""), database: dbName };
      } else {
        // A dev database: one user, named like the component, owning its database.
        const owner = await role(component.name, "");
        await database(component.name, owner.name);
        bound = { role: owner, database: component.name };
      }
      components.set(component.name, bound);
      const variables: Record<string, string> = {
        HOSTNAME: pg.host,
        PORT: String(pg.port),
        USERNAME: bound.role.name,
        PASSWORD: bound.role.password,
        DATABASE: bound.database,
        CA_CERT: pg.caCert ?? "",
      };
      for (const [name, value] of Object.entries(variables)) values.set(`${component.name}.${name}`, value);
    }
  } finally {
    await admin.end();
  }
  return { values, components };
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The `docker run` arguments (after the env flags) that start `image` with a run command, one per way a platform may
 * apply it. Docker's `--entrypoint` also drops the image's CMD; arguments after the image replace CMD and keep the
 * ENTRYPOINT. App Platform's starter joins the two and execs argv[0] (steamcmd/api#24).
 */
const RUN_COMMAND_MODELS: Readonly<Record<string, (image: string, command: string) => string[]>> = {
  "in place of the ENTRYPOINT": (image, command) => {
    const [executable = "", ...args] = command.split(" ");
    return ["--entrypoint", executable, image, ...args];
  },
  "in place of CMD, the ENTRYPOINT kept (Kubernetes args)": (image, command) => [image, ...command.split(" ")],
  "through sh -c, in place of the ENTRYPOINT": (image, command) => ["--entrypoint", "/bin/sh", image, "-c", command],
  "through sh -c, in place of CMD": (image, command) => [image, "/bin/sh", "-c", command],
};

/** The `msg` of each JSON log line the app wrote (pino, one object per line). */
const logMessages = (output: string) =>
  output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);

/** Substitute `${component.VARIABLE}` as App Platform does; a reference App Platform couldn't resolve fails. */
function resolveEnvs(envs: readonly { key: string; value: string }[], bindings: Bindings): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const { key, value } of envs) {
    resolved[key] = value.replace(/\$\{([^}]+)\}/g, (_match, reference: string) => {
      const bound = bindings.values.get(reference);
      if (bound === undefined) throw new Error(`${key} refers to \${${reference}}, which no component provides`);
      return bound;
    });
  }
  return resolved;
}

/** `docker run` flags that pass each variable by name; the values travel in the client's environment, not argv. */
const envFlags = (env: Record<string, string>) => Object.keys(env).flatMap((name) => ["-e", name]);

describeWithDocker("the App Platform spec, run as App Platform would (real Docker, real PostgreSQL)", () => {
  const id = randomBytes(4).toString("hex");
  const image = `newsletter-conformance:${id}`;
  const containers: string[] = [];
  let pg: TestPostgres;

  beforeAll(async () => {
    pg = await startPostgres({ tls: true });
    // The image, built with the settings the production program hands docker.Image.
    const { build } = await programFor("production");
    await buildFromProgramSettings(build, image);
  });

  afterAll(async () => {
    await removeQuietly("container", containers);
    await removeQuietly("image", [image]);
    await pg?.destroy();
  });

  /** Deploy one stack's spec: provision, PRE_DEPLOY job, service; then probe and subscribe. */
  function deploys(stack: string, check: (bindings: Bindings, spec: AppPlatformSpec) => Promise<void>) {
    it(`deploys the ${stack} spec: the migration job, then the service, which stores a subscription`, async () => {
      const { spec } = await programFor(stack);
      const [service] = spec.services;
      const [job] = spec.jobs;
      if (!service || !job) throw new Error("the spec has no service or no job");
      expect(job.kind).toBe("PRE_DEPLOY");
      expect(job.image).toEqual(service.image);
      const bindings = await provision(pg, spec);

      // PRE_DEPLOY: the run command with the job's envs, under each way App Platform may apply it; every run must
      // be the migration (its log says so) and succeed. The first applies the migrations; the others, like a job
      // re-run by a later deployment, find nothing to do and grant again.
      const jobEnv = resolveEnvs(job.envs, bindings);
      const outcomes: Record<string, { exitCode: string; first: string | undefined; last: string | undefined }> = {};
      for (const [model, argv] of Object.entries(RUN_COMMAND_MODELS)) {
        const jobName = `newsletter-conformance-${stack}-job-${Object.keys(outcomes).length}-${id}`;
        containers.push(jobName);
        const jobRun = await dockerRaw(
          ["run", "--name", jobName, "--network", "host", ...envFlags(jobEnv), ...argv(image, job.runCommand)],
          { env: jobEnv, timeoutMs: 120_000 },
        ).catch((error: Error) => ({ stdout: "", stderr: error.message }));
        // The log as the engine recorded it: an attached `docker run` can miss the last lines of a container that
        // exits at once, `docker logs` has them all.
        const logs = await dockerRaw(["logs", jobName]).catch(() => ({ stdout: "", stderr: "" }));
        const output = jobRun.stdout + jobRun.stderr + logs.stdout + logs.stderr;
        const messages = logMessages(logs.stdout);
        outcomes[model] = {
          exitCode: await docker(["inspect", "--format", "{{.State.ExitCode}}", jobName]),
          // What ran: the migration's first log line, or what the process printed instead.
          first: messages[0] ?? output.trim().split("\n")[0],
          last: messages.at(-1),
        };
        for (const secret of Object.entries(jobEnv)
          .filter(([k]) => k.endsWith("PASSWORD"))
          .map(([, v]) => v)) {
          expect(output).not.toContain(secret);
        }
      }
      const [firstModel, ...laterModels] = Object.keys(RUN_COMMAND_MODELS);
      const migrating = expect.stringMatching(/^newsletter \S+ migrating$/);
      expect(outcomes).toEqual({
        [firstModel ?? ""]: {
          exitCode: "0",
          first: migrating,
          last: expect.stringMatching(/^applied \d+ migration\(s\)$/),
        },
        ...Object.fromEntries(
          laterModels.map((m) => [m, { exitCode: "0", first: migrating, last: "already up to date" }]),
        ),
      });

      // The service: the image's own command, the service's envs, listening on http_port.
      await waitForFreePort(service.httpPort, 60_000);
      const serviceEnv = resolveEnvs(service.envs, bindings);
      const serviceName = `newsletter-conformance-${stack}-web-${id}`;
      containers.push(serviceName);
      await dockerRaw(["run", "-d", "--name", serviceName, "--network", "host", ...envFlags(serviceEnv), image], {
        env: serviceEnv,
      });
      try {
        const base = `http://127.0.0.1:${service.httpPort}`;
        await waitFor200(`${base}${service.healthCheck.httpPath}`, {
          timeoutMs: 30_000,
          describeFailure: async () => {
            const logs = await dockerRaw(["logs", serviceName]);
            return `service log:\n${logs.stdout}${logs.stderr}`;
          },
        });
        // The answer came from this container (host networking: another process on the port would answer too).
        expect(await docker(["inspect", "--format", "{{.State.Status}}", serviceName])).toBe("running");

        const email = `${stack}-${id}@example.com`;
        const response = await fetch(`${base}/subscriptions`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ name: `Conformance ${stack}`, email }).toString(),
        });
        expect(response.status).toBe(200);

        const serviceDb = bindings.components.get("db");
        if (!serviceDb) throw new Error("no `db` component bound");
        const client = await pg.client(serviceDb.database);
        try {
          const { rows } = await client.query("SELECT name FROM subscriptions WHERE email = $1", [email]);
          const logs = rows.length === 0 ? await dockerRaw(["logs", serviceName]) : undefined;
          expect(rows, logs && `service log:\n${logs.stdout}${logs.stderr}`).toEqual([
            { name: `Conformance ${stack}` },
          ]);
        } finally {
          await client.end();
        }
        await check(bindings, spec);

        const logs = await dockerRaw(["logs", serviceName]);
        for (const [key, value] of Object.entries(serviceEnv)) {
          if (key.endsWith("PASSWORD")) expect(logs.stdout + logs.stderr).not.toContain(value);
        }
      } finally {
        await docker(["stop", "--time", "10", serviceName]).catch(() => {});
      }
    });
  }

  deploys("production", async (bindings) => {
    // The privilege split held: the job migrated as doadmin, which owns the table; the service's role got exactly
    // CONNECT, USAGE on `public` and INSERT on the table: it can't create tables in `public` (PostgreSQL 15+), read
    // subscribers, nor touch the migrations ledger.
    const service = bindings.components.get("db");
    const migrator = bindings.components.get("db-admin");
    expect(service?.role.name).toBe("newsletter_app");
    expect(migrator?.role.name).toBe(CLUSTER_ADMIN);
    const superuser = await pg.client(service?.database ?? "");
    try {
      const { rows } = await superuser.query(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'subscriptions'",
      );
      expect(rows).toEqual([{ tableowner: CLUSTER_ADMIN }]);
      const privileges = await superuser.query(
        `SELECT has_database_privilege($1, current_database(), 'CONNECT') AS connect,
                has_database_privilege($1, current_database(), 'CREATE') AS create_schema,
                has_schema_privilege($1, 'public', 'USAGE') AS usage,
                has_schema_privilege($1, 'public', 'CREATE') AS create_table,
                (SELECT array_agg(p ORDER BY p) FROM unnest(ARRAY['INSERT','SELECT','UPDATE','DELETE','TRUNCATE',
                  'REFERENCES','TRIGGER']) AS p WHERE has_table_privilege($1, 'subscriptions', p)) AS on_table,
                (SELECT datacl::text[] @> ARRAY['=c/' || datdba::regrole::text] FROM pg_database
                  WHERE datname = current_database()) AS public_may_connect`,
        [service?.role.name],
      );
      expect(privileges.rows).toEqual([
        {
          connect: true,
          create_schema: false,
          usage: true,
          create_table: false,
          on_table: ["INSERT"],
          public_may_connect: false,
        },
      ]);
    } finally {
      await superuser.end();
    }
    const pgModule = await import("pg");
    const asService = new pgModule.default.Client({
      host: pg.host,
      port: pg.port,
      user: service?.role.name,
      password: service?.role.password,
      database: service?.database,
    });
    await asService.connect();
    try {
      await expect(asService.query("CREATE TABLE intruder (id int)")).rejects.toThrow(
        "permission denied for schema public",
      );
      await expect(asService.query("SELECT * FROM pgmigrations")).rejects.toThrow("permission denied");
    } finally {
      await asService.end();
    }
  });

  deploys("pr-42", async (_bindings, spec) => {
    // A dev database: one user, which owns the database, for the job and the service alike.
    expect(spec.databases).toEqual([{ name: "db", engine: "PG", production: false, version: "17" }]);
    const username = (envs: readonly { key: string; value: string }[]) =>
      envs.find((e) => e.key === "APP_DATABASE__USERNAME")?.value;
    expect(username(spec.jobs[0]?.envs ?? [])).toBe(username(spec.services[0]?.envs ?? []));
  });
});
