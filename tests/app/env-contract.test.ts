// The App Platform contract: the deployment tells the app where its database is only through the APP_DATABASE__*
// variables that infra/env.ts produces. Here they point at a real Postgres that serves TLS, as a managed one does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../app/src/app";
import { runMigrations } from "../../app/src/migrations";
import { loadSettings } from "../../app/src/settings";
import { envContract } from "../../infra/env";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { CONFIGURATION_DIR, FORM, silentMigrationLog, subscriptionRows } from "./helpers";

describe("the APP_DATABASE__* contract (infra/env.ts)", () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startPostgres({ tls: true });
    await pg.createDatabase("contract");
    const admin = await pg.client("contract");
    await admin.query("CREATE ROLE service LOGIN PASSWORD 'service-password'");
    await admin.end();
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  it("migrates as the migration user and serves as the service user, in production settings, verified TLS", async () => {
    const connection = { host: pg.host, port: String(pg.port), databaseName: "contract", caCert: pg.caCert ?? "" };
    const contract = envContract({
      environment: "production",
      service: { ...connection, username: "service", password: "service-password" },
      migrate: { ...connection, username: pg.user, password: pg.password },
    });
    const asEnv = (vars: typeof contract.service) => Object.fromEntries(vars.map((v) => [v.name, String(v.value)]));

    const migrateSettings = loadSettings({ dir: CONFIGURATION_DIR, env: asEnv(contract.migrate) });
    expect(migrateSettings.database).toMatchObject({
      require_ssl: true,
      username: pg.user,
      database_name: "contract",
      service_username: "service",
    });
    expect(await runMigrations(migrateSettings, silentMigrationLog)).toEqual(
      expect.arrayContaining(["1750000000000_create-subscriptions", "1760000000000_canonical-emails"]),
    );

    // The job granted the service's role what it needs (APP_DATABASE__SERVICE_USERNAME), and nothing more.
    const admin = await pg.client("contract");
    const { rows: privileges } = await admin.query(
      "SELECT table_name, privilege_type FROM information_schema.role_table_grants WHERE grantee = 'service'",
    );
    await admin.end();
    expect(privileges).toEqual([{ table_name: "subscriptions", privilege_type: "INSERT" }]);

    const serviceSettings = loadSettings({ dir: CONFIGURATION_DIR, env: asEnv(contract.service) });
    expect(serviceSettings.application.host).toBe("0.0.0.0");
    const app = buildApp(serviceSettings, { logLevel: "silent" });
    try {
      const response = await app.inject({
        method: "POST",
        url: "/subscriptions",
        headers: FORM,
        payload: "name=contract&email=contract%40example.com",
      });
      expect(response.statusCode).toBe(200);
    } finally {
      await app.close();
    }
    expect(await subscriptionRows(pg, "contract")).toEqual([{ email: "contract@example.com", name: "contract" }]);
  });
});
