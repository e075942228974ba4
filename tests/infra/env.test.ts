import { describe, expect, it } from "vitest";
import { type DatabaseConnection, envContract, SERVICE_USERNAME_VARIABLE } from "../../infra/env";

const connection = (username: string, password: string): DatabaseConnection<string> => ({
  host: "db.internal",
  port: "25060",
  username,
  password,
  databaseName: "newsletter",
  caCert: "-----BEGIN CERTIFICATE-----",
});

describe("envContract", () => {
  it("gives the service and the job the same variables when they share one role", () => {
    const shared = connection("app", "pw");
    const contract = envContract({ environment: "production", service: shared, migrate: shared });
    const expected = [
      { name: "APP_ENVIRONMENT", value: "production", secret: false },
      { name: "APP_DATABASE__HOST", value: "db.internal", secret: false },
      { name: "APP_DATABASE__PORT", value: "25060", secret: false },
      { name: "APP_DATABASE__USERNAME", value: "app", secret: false },
      { name: "APP_DATABASE__PASSWORD", value: "pw", secret: true },
      { name: "APP_DATABASE__DATABASE_NAME", value: "newsletter", secret: false },
      { name: "APP_DATABASE__CA_CERT", value: "-----BEGIN CERTIFICATE-----", secret: false },
    ];
    expect(contract).toEqual({ service: expected, migrate: expected });
  });

  it("gives the job its own, privileged credentials plus the service's role name, never the service's password", () => {
    const contract = envContract({
      environment: "production",
      service: connection("newsletter_app", "service-pw"),
      migrate: connection("doadmin", "admin-pw"),
    });
    const values = (vars: typeof contract.migrate) => Object.fromEntries(vars.map((v) => [v.name, v.value]));
    expect(values(contract.service)).toMatchObject({ APP_DATABASE__USERNAME: "newsletter_app" });
    expect(values(contract.service)).not.toHaveProperty(SERVICE_USERNAME_VARIABLE);
    expect(values(contract.migrate)).toMatchObject({
      APP_DATABASE__USERNAME: "doadmin",
      APP_DATABASE__PASSWORD: "admin-pw",
      [SERVICE_USERNAME_VARIABLE]: "newsletter_app",
    });
    expect(contract.migrate.map((v) => v.value)).not.toContain("service-pw");
  });

  it("omits the CA variable when the connection has no CA", () => {
    const { caCert: _caCert, ...plain } = connection("app", "pw");
    const contract = envContract({ environment: "local", service: plain, migrate: plain });
    expect(contract.service.map((v) => v.name)).not.toContain("APP_DATABASE__CA_CERT");
  });

  it("gives the app's own settings to the service and the migration job alike, sorted, secrets flagged", () => {
    const shared = connection("app", "pw");
    const contract = envContract({
      environment: "production",
      service: shared,
      migrate: shared,
      app: {
        env: { APP_EMAIL_CLIENT__SENDER_EMAIL: "news@example.org", APP_EMAIL_CLIENT__BASE_URL: "https://mail" },
        secrets: { APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN: "pm-token" },
      },
    });
    const appVars = [
      { name: "APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN", value: "pm-token", secret: true },
      { name: "APP_EMAIL_CLIENT__BASE_URL", value: "https://mail", secret: false },
      { name: "APP_EMAIL_CLIENT__SENDER_EMAIL", value: "news@example.org", secret: false },
    ];
    expect(contract.service.slice(-3)).toEqual(appVars);
    expect(contract.migrate.slice(-3)).toEqual(appVars);
  });
});
