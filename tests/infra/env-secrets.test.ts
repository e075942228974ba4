// Which variables of the env contract (infra/env.ts) are secret: the password and nothing else, so that the
// platforms encrypt what must be hidden and show what helps to debug (the role name the job grants to included).
import { describe, expect, it } from "vitest";
import { envContract, SERVICE_USERNAME_VARIABLE } from "../../infra/env";

const connection = (username: string) => ({
  host: "db.internal",
  port: "25060",
  username,
  password: `${username}-pw`,
  databaseName: "newsletter",
  caCert: "-----BEGIN CERTIFICATE-----",
});

describe("envContract secrets", () => {
  it("marks only the password secret, for the service and for the job with its extra variable", () => {
    const contract = envContract({
      environment: "production",
      service: connection("newsletter_app"),
      migrate: connection("doadmin"),
    });
    const secrets = (vars: typeof contract.service) => vars.filter((v) => v.secret).map((v) => v.name);
    expect(secrets(contract.service)).toEqual(["APP_DATABASE__PASSWORD"]);
    expect(secrets(contract.migrate)).toEqual(["APP_DATABASE__PASSWORD"]);
    expect(contract.migrate.at(-1)).toEqual({
      name: SERVICE_USERNAME_VARIABLE,
      value: "newsletter_app",
      secret: false,
    });
  });
});
