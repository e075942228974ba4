import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  HEALTH_CHECK_PATH,
  imageBuildSettings,
  MIGRATE_ARGV,
  MIGRATE_COMMAND,
  RUNTIME_TARGET,
  SERVICE_PORT,
} from "../../infra/image";

const repoRoot = resolve(__dirname, "../..");

describe("imageBuildSettings", () => {
  it.each([
    {
      name: "builds the runtime target from the repository root for linux/amd64, with the version as APP_VERSION",
      input: { appVersion: "3f2a9c1" },
      args: { APP_VERSION: "3f2a9c1" },
      platform: "linux/amd64",
    },
    {
      name: "passes base-image mirrors and the npm mirror through as build args",
      input: {
        appVersion: "3f2a9c1",
        platform: "linux/arm64",
        buildArgs: { BUILD_IMAGE: "mirror/node:24-build", NPM_CONFIG_REGISTRY: "https://npm.example/" },
      },
      args: {
        BUILD_IMAGE: "mirror/node:24-build",
        NPM_CONFIG_REGISTRY: "https://npm.example/",
        APP_VERSION: "3f2a9c1",
      },
      platform: "linux/arm64",
    },
  ])("$name", ({ input, args, platform }) => {
    expect(imageBuildSettings(input)).toEqual({
      context: repoRoot,
      dockerfile: join(repoRoot, "Dockerfile"),
      target: "runtime",
      platform,
      args,
    });
  });

  it("rejects an empty version, naming what to pass", () => {
    expect(() => imageBuildSettings({ appVersion: " " })).toThrow(
      "imageBuildSettings: appVersion is empty; pass the git SHA the image is built from",
    );
  });

  it("rejects APP_VERSION among the extra build args, so the version has one source", () => {
    expect(() => imageBuildSettings({ appVersion: "abc", buildArgs: { APP_VERSION: "other" } })).toThrow(
      "imageBuildSettings: pass the version as appVersion, not as buildArgs.APP_VERSION",
    );
  });
});

describe("the image's constants", () => {
  it("match the port, health check route and target the Dockerfile and the app use", () => {
    expect({ SERVICE_PORT, HEALTH_CHECK_PATH, RUNTIME_TARGET }).toEqual({
      SERVICE_PORT: 8000,
      HEALTH_CHECK_PATH: "/health_check",
      RUNTIME_TARGET: "runtime",
    });
  });
});

describe("MIGRATE_COMMAND", () => {
  it("is MIGRATE_ARGV joined by spaces, so a platform that splits it on spaces and execs it gets the argv", () => {
    expect(MIGRATE_ARGV).toEqual(["/nodejs/bin/node", "/app/dist/migrate.js"]);
    expect(MIGRATE_COMMAND.split(" ")).toEqual(MIGRATE_ARGV);
  });

  it("needs no shell: absolute paths, nothing to quote, expand or redirect", () => {
    for (const word of MIGRATE_ARGV) {
      expect(word).toMatch(/^\/[A-Za-z0-9._/-]+$/);
    }
  });
});
