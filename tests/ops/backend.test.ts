import { describe, expect, it } from "vitest";
import { LOCAL_PASSPHRASE, localBackendUrl, redact, spacesBackendUrl, stackEnvironment } from "../../ops/backend";
import { ExitCode, type OpsError } from "../../ops/errors";
import { parseStackRef } from "../../ops/stacks";

const local = parseStackRef("local");
const production = parseStackRef("production");
const pr = parseStackRef("pr-42");
const spaces = spacesBackendUrl({ bucket: "acme-pulumi-state", region: "fra1" });

function errorOf(run: () => unknown): OpsError {
  try {
    run();
  } catch (error) {
    return error as OpsError;
  }
  throw new Error("expected an error");
}

describe("spacesBackendUrl", () => {
  it("points Pulumi's S3 backend at a DigitalOcean Spaces bucket", () => {
    expect(spaces).toBe("s3://acme-pulumi-state?endpoint=https://fra1.digitaloceanspaces.com&region=us-east-1");
    expect(spacesBackendUrl({ bucket: "acme-state", region: "nyc3", prefix: "/newsletter/" })).toBe(
      "s3://acme-state/newsletter?endpoint=https://nyc3.digitaloceanspaces.com&region=us-east-1",
    );
  });

  it("rejects bucket and region names Spaces would not have", () => {
    expect(() => spacesBackendUrl({ bucket: "Acme_State", region: "fra1" })).toThrow(/invalid Spaces bucket/);
    expect(() => spacesBackendUrl({ bucket: "acme", region: "frankfurt" })).toThrow(/invalid Spaces region/);
  });
});

describe("stackEnvironment", () => {
  it("keeps the local stack in the repository's file backend with the documented passphrase", () => {
    expect(localBackendUrl("/repo")).toBe("file:///repo/.pulumi-state");
    expect(stackEnvironment(local, {}, "/repo")).toEqual({
      envVars: {
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_BACKEND_URL: "file:///repo/.pulumi-state",
        PULUMI_CONFIG_PASSPHRASE: LOCAL_PASSPHRASE,
      },
      secretsProvider: "passphrase",
      backend: "file:///repo/.pulumi-state",
    });
  });

  it("uses PULUMI_CONFIG_PASSPHRASE for the local stack when set, and never the shared backend", () => {
    const env = stackEnvironment(local, { PULUMI_CONFIG_PASSPHRASE: "mine", PULUMI_BACKEND_URL: spaces }, "/repo");
    expect(env.envVars.PULUMI_CONFIG_PASSPHRASE).toBe("mine");
    expect(env.envVars.PULUMI_BACKEND_URL).toBe("file:///repo/.pulumi-state");
  });

  it("uses the Spaces backend with the passphrase provider, salt from the state, for production and PR stacks", () => {
    const env = {
      PULUMI_BACKEND_URL: spaces,
      AWS_ACCESS_KEY_ID: "k",
      AWS_SECRET_ACCESS_KEY: "s",
      PULUMI_CONFIG_PASSPHRASE: "p",
      CI: "true",
    };
    for (const stack of [production, pr]) {
      expect(stackEnvironment(stack, env, "/repo")).toEqual({
        envVars: {
          PULUMI_SKIP_UPDATE_CHECK: "true",
          PULUMI_CONFIG_PASSPHRASE: "p",
          PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER: "true",
          AWS_REQUEST_CHECKSUM_CALCULATION: "when_required",
          AWS_RESPONSE_CHECKSUM_VALIDATION: "when_required",
        },
        secretsProvider: "passphrase",
        backend: spaces,
      });
    }
  });

  it("keeps a checksum mode the user chose, and sets none for backends that are not S3", () => {
    const base = { AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s", PULUMI_CONFIG_PASSPHRASE: "p" };
    const chosen = stackEnvironment(
      production,
      { ...base, PULUMI_BACKEND_URL: spaces, AWS_REQUEST_CHECKSUM_CALCULATION: "when_supported" },
      "/repo",
    ).envVars;
    expect(chosen).toMatchObject({
      AWS_REQUEST_CHECKSUM_CALCULATION: "when_supported",
      AWS_RESPONSE_CHECKSUM_VALIDATION: "when_required",
    });
    const file = stackEnvironment(production, { ...base, PULUMI_BACKEND_URL: "file:///state" }, "/repo").envVars;
    expect(Object.keys(file).filter((k) => k.startsWith("AWS_"))).toEqual([]);
    expect(Object.keys(stackEnvironment(local, {}, "/repo").envVars).filter((k) => k.startsWith("AWS_"))).toEqual([]);
  });

  it("names the missing Spaces key and passphrase with exit code 3", () => {
    const error = errorOf(() => stackEnvironment(production, { PULUMI_BACKEND_URL: spaces }, "/repo"));
    expect(error.exitCode).toBe(ExitCode.prerequisite);
    expect(error.message).toBe(
      `The state backend ${spaces} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (a Spaces access key for the state bucket) and PULUMI_CONFIG_PASSPHRASE (encrypts the stack's secrets in the state): set them and run this again.`,
    );
  });

  it("uses Pulumi Cloud and its own secrets when only PULUMI_ACCESS_TOKEN is set", () => {
    expect(stackEnvironment(production, { PULUMI_ACCESS_TOKEN: "pul-x", CI: "true" }, "/repo")).toEqual({
      envVars: { PULUMI_SKIP_UPDATE_CHECK: "true" },
      backend: "Pulumi Cloud",
    });
  });

  it("fails in CI when no backend is configured, and trusts `pulumi login` elsewhere", () => {
    expect(errorOf(() => stackEnvironment(production, { CI: "true" }, "/repo")).message).toMatch(
      /^No state backend for stack production: set PULUMI_BACKEND_URL/,
    );
    expect(stackEnvironment(production, {}, "/repo").backend).toBe("the backend of your `pulumi login`");
  });

  it("never prints a password from a postgres:// backend URL", () => {
    expect(redact("postgres://pulumi:s3cret@db.example.com:5432/state")).toBe(
      "postgres://pulumi:***@db.example.com:5432/state",
    );
  });
});
