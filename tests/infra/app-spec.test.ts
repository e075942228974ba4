// biome-ignore-all lint/suspicious/noTemplateCurlyInString: App Platform bindable variables are literal "${...}" strings.
import { describe, expect, it } from "vitest";
import {
  type AppSpecInput,
  bindable,
  boundConnection,
  buildAppSpec,
  digestOf,
  isBindable,
  toAppPlatformEnvs,
} from "../../infra/app-spec";
import { HEALTH_CHECK_PATH, MIGRATE_COMMAND, SERVICE_PORT } from "../../infra/image";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const VERSION = "0123456789abcdef0123456789abcdef";

const prInput: AppSpecInput = {
  name: "newsletter-pr-42",
  region: "fra",
  image: { repository: "newsletter", digest: DIGEST, version: VERSION },
  instanceSize: "apps-s-1vcpu-0.5gb",
  instanceCount: 1,
  database: { kind: "dev", version: "17" },
  domain: undefined,
};

const env = (key: string, value: string) => ({ key, value, scope: "RUN_TIME", type: "GENERAL" });
const bound = (component: string) => [
  env("APP_ENVIRONMENT", "production"),
  env("APP_DATABASE__HOST", `\${${component}.HOSTNAME}`),
  env("APP_DATABASE__PORT", `\${${component}.PORT}`),
  env("APP_DATABASE__USERNAME", `\${${component}.USERNAME}`),
  env("APP_DATABASE__PASSWORD", `\${${component}.PASSWORD}`),
  env("APP_DATABASE__DATABASE_NAME", `\${${component}.DATABASE}`),
  env("APP_DATABASE__CA_CERT", `\${${component}.CA_CERT}`),
];

describe("buildAppSpec", () => {
  it("builds a per-PR spec: one service by digest with readiness and liveness checks, a PRE_DEPLOY migrate job, a pinned dev database, ingress and alerts", () => {
    const image = { registryType: "DOCR", repository: "newsletter", digest: DIGEST };
    expect(buildAppSpec(prInput)).toEqual({
      name: "newsletter-pr-42",
      region: "fra",
      services: [
        {
          name: "web",
          image,
          httpPort: SERVICE_PORT,
          instanceSizeSlug: "apps-s-1vcpu-0.5gb",
          instanceCount: 1,
          healthCheck: { httpPath: HEALTH_CHECK_PATH },
          livenessHealthCheck: {
            httpPath: HEALTH_CHECK_PATH,
            initialDelaySeconds: 10,
            periodSeconds: 10,
            timeoutSeconds: 5,
            successThreshold: 1,
            failureThreshold: 6,
          },
          envs: [...bound("db"), env("APP_APPLICATION__VERSION", VERSION)],
        },
      ],
      jobs: [
        {
          name: "migrate",
          kind: "PRE_DEPLOY",
          image,
          runCommand: MIGRATE_COMMAND,
          instanceSizeSlug: "apps-s-1vcpu-0.5gb",
          instanceCount: 1,
          envs: [...bound("db"), env("APP_APPLICATION__VERSION", VERSION)],
        },
      ],
      // Pinned, like production's cluster: unpinned, App Platform picks the dev database's version.
      databases: [{ name: "db", engine: "PG", production: false, version: "17" }],
      ingress: { rules: [{ component: { name: "web" }, match: { path: { prefix: "/" } } }] },
      alerts: [{ rule: "DEPLOYMENT_FAILED" }, { rule: "DOMAIN_FAILED" }],
    });
  });

  it("with a cluster, binds it twice and gives the job the admin user plus the service's role to grant", () => {
    const spec = buildAppSpec({
      ...prInput,
      name: "newsletter-production",
      instanceSize: "apps-s-1vcpu-1gb",
      instanceCount: 2,
      database: {
        kind: "cluster",
        clusterName: "newsletter-production-db",
        databaseName: "newsletter",
        serviceUser: "newsletter_app",
        adminUser: "doadmin",
        version: "17",
      },
      domain: { name: "news.example.com", zone: "example.com" },
    });
    expect(spec.databases).toEqual([
      {
        name: "db",
        engine: "PG",
        production: true,
        clusterName: "newsletter-production-db",
        dbName: "newsletter",
        dbUser: "newsletter_app",
        version: "17",
      },
      {
        name: "db-admin",
        engine: "PG",
        production: true,
        clusterName: "newsletter-production-db",
        dbName: "newsletter",
        dbUser: "doadmin",
        version: "17",
      },
    ]);
    expect(spec.services[0]?.envs).toEqual([...bound("db"), env("APP_APPLICATION__VERSION", VERSION)]);
    expect(spec.jobs[0]?.envs).toEqual([
      ...bound("db-admin"),
      env("APP_DATABASE__SERVICE_USERNAME", "${db.USERNAME}"),
      env("APP_APPLICATION__VERSION", VERSION),
    ]);
    expect(spec.services[0]).toMatchObject({ instanceSizeSlug: "apps-s-1vcpu-1gb", instanceCount: 2 });
    expect(spec.domainNames).toEqual([{ name: "news.example.com", type: "PRIMARY", zone: "example.com" }]);
  });

  it("with the admin's password given, attaches the cluster once and stores only that password as a SECRET", () => {
    const spec = buildAppSpec({
      ...prInput,
      instanceSize: "apps-s-1vcpu-1gb",
      database: {
        kind: "cluster",
        clusterName: "newsletter-production-db",
        databaseName: "newsletter",
        serviceUser: "newsletter_app",
        adminUser: "doadmin",
        adminPassword: "admin-password",
        version: "17",
      },
    });
    expect(spec.databases).toEqual([
      {
        name: "db",
        engine: "PG",
        production: true,
        clusterName: "newsletter-production-db",
        dbName: "newsletter",
        dbUser: "newsletter_app",
        version: "17",
      },
    ]);
    expect(spec.services[0]?.envs).toEqual([...bound("db"), env("APP_APPLICATION__VERSION", VERSION)]);
    expect(spec.jobs[0]?.envs).toEqual([
      env("APP_ENVIRONMENT", "production"),
      env("APP_DATABASE__HOST", "${db.HOSTNAME}"),
      env("APP_DATABASE__PORT", "${db.PORT}"),
      env("APP_DATABASE__USERNAME", "doadmin"),
      { key: "APP_DATABASE__PASSWORD", value: "admin-password", scope: "RUN_TIME", type: "SECRET" },
      env("APP_DATABASE__DATABASE_NAME", "${db.DATABASE}"),
      env("APP_DATABASE__CA_CERT", "${db.CA_CERT}"),
      env("APP_DATABASE__SERVICE_USERNAME", "${db.USERNAME}"),
      env("APP_APPLICATION__VERSION", VERSION),
    ]);
  });

  it("adds a custom domain without a zone when none is given", () => {
    const spec = buildAppSpec({ ...prInput, domain: { name: "news.example.com", zone: undefined } });
    expect(spec.domainNames).toEqual([{ name: "news.example.com", type: "PRIMARY" }]);
  });

  it("uses ingress rules, never the deprecated per-service routes", () => {
    const spec = buildAppSpec(prInput) as unknown as { services: Record<string, unknown>[] };
    expect(spec.services[0]).not.toHaveProperty("routes");
  });

  it("is deterministic, so an unchanged image gives an identical spec", () => {
    expect(buildAppSpec(prInput)).toEqual(buildAppSpec({ ...prInput }));
    expect(buildAppSpec({ ...prInput, image: { ...prInput.image, version: "other" } })).not.toEqual(
      buildAppSpec(prInput),
    );
    expect(buildAppSpec({ ...prInput, image: { ...prInput.image, digest: `sha256:${"cd".repeat(32)}` } })).not.toEqual(
      buildAppSpec(prInput),
    );
  });

  it("refuses a tag where a digest belongs", () => {
    expect(() => buildAppSpec({ ...prInput, image: { ...prInput.image, digest: "latest" } })).toThrow(
      'buildAppSpec: image digest must look like sha256:<64 hex>, got "latest"',
    );
  });
});

describe("bindable variables", () => {
  it("are written literally, not interpolated by JavaScript", () => {
    expect(bindable("db", "PASSWORD")).toBe("${db.PASSWORD}");
    expect(boundConnection("db-admin")).toEqual({
      host: "${db-admin.HOSTNAME}",
      port: "${db-admin.PORT}",
      username: "${db-admin.USERNAME}",
      password: "${db-admin.PASSWORD}",
      databaseName: "${db-admin.DATABASE}",
      caCert: "${db-admin.CA_CERT}",
    });
  });

  it.each([
    ["${db.PASSWORD}", true],
    ["${db-admin.USERNAME}", true],
    ["${APP_URL}", false],
    ["hunter2", false],
    ["x${db.PASSWORD}", false],
  ])("recognises %s as a single reference: %s", (value, expected) => {
    expect(isBindable(value)).toBe(expected);
  });
});

describe("toAppPlatformEnvs", () => {
  it("marks every env GENERAL and RUN_TIME, the password included, since its value is only a reference", () => {
    expect(toAppPlatformEnvs([{ name: "APP_DATABASE__PASSWORD", value: "${db.PASSWORD}", secret: true }])).toEqual([
      { key: "APP_DATABASE__PASSWORD", value: "${db.PASSWORD}", scope: "RUN_TIME", type: "GENERAL" },
    ]);
  });

  it("refuses a literal secret, which would be stored in the spec and the state", () => {
    expect(() => toAppPlatformEnvs([{ name: "APP_DATABASE__PASSWORD", value: "hunter2", secret: true }])).toThrow(
      "APP_DATABASE__PASSWORD is secret but its value is not a bindable variable: it would be written into the app spec",
    );
  });

  it("sends an app secret GENERAL, and one already in App Platform's ciphertext SECRET, so both read back unchanged", () => {
    const sealed = "EV[1:q2dX0m5d1fWxT0Zt:Zm9vYmFy]";
    expect(
      toAppPlatformEnvs([
        { name: "APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN", value: "pm-token", secret: true },
        { name: "APP_PAYMENTS__API_KEY", value: sealed, secret: true },
        { name: "APP_EMAIL_CLIENT__BASE_URL", value: "EV[1:looks:sealed]", secret: false },
      ]),
    ).toEqual([
      { key: "APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN", value: "pm-token", scope: "RUN_TIME", type: "GENERAL" },
      { key: "APP_PAYMENTS__API_KEY", value: sealed, scope: "RUN_TIME", type: "SECRET" },
      { key: "APP_EMAIL_CLIENT__BASE_URL", value: "EV[1:looks:sealed]", scope: "RUN_TIME", type: "GENERAL" },
    ]);
  });
});

describe("buildAppSpec with the stack's appEnv and appSecrets", () => {
  it("appends them, sorted, to the service's and the job's envs after the generated ones", () => {
    const spec = buildAppSpec({
      ...prInput,
      appSettings: {
        env: { APP_EMAIL_CLIENT__SENDER_EMAIL: "news@example.org" },
        secrets: { APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN: "pm-token" },
      },
    });
    const own = [
      env("APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN", "pm-token"),
      env("APP_EMAIL_CLIENT__SENDER_EMAIL", "news@example.org"),
    ];
    const version = env("APP_APPLICATION__VERSION", VERSION);
    expect(spec.services[0]?.envs).toEqual([...bound("db"), version, ...own]);
    expect(spec.jobs[0]?.envs).toEqual([...bound("db"), version, ...own]);
  });
});

describe("digestOf", () => {
  it("takes the digest out of a repository digest", () => {
    expect(digestOf(`registry.digitalocean.com/reg/newsletter@${DIGEST}`)).toBe(DIGEST);
  });

  it("rejects a reference without a digest", () => {
    expect(() => digestOf("registry.digitalocean.com/reg/newsletter:latest")).toThrow(
      'Not a repository digest: "registry.digitalocean.com/reg/newsletter:latest"',
    );
  });
});
