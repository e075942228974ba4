import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  HEALTH_CHECK_PATH,
  imageBuildSettings,
  MIGRATE_ARGV,
  MIGRATE_COMMAND,
  RUNTIME_TARGET,
  SERVER_ARGV,
  SERVICE_PORT,
} from "../../infra/image";

const repoRoot = resolve(__dirname, "../..");

describe("imageBuildSettings", () => {
  it.each([
    {
      name: "builds the runtime target from the repository root for linux/amd64, with no build args",
      input: {},
      args: {},
      platform: "linux/amd64",
    },
    {
      name: "passes base-image mirrors and the npm mirror through as build args",
      input: {
        platform: "linux/arm64",
        buildArgs: { BUILD_IMAGE: "mirror/node:24-build", NPM_CONFIG_REGISTRY: "https://npm.example/" },
      },
      args: { BUILD_IMAGE: "mirror/node:24-build", NPM_CONFIG_REGISTRY: "https://npm.example/" },
      platform: "linux/arm64",
    },
  ])("$name", ({ input, args, platform }) => {
    expect(imageBuildSettings(input)).toEqual({
      // Relative to the working directory (here the repository root), never absolute.
      context: ".",
      dockerfile: "Dockerfile",
      target: "runtime",
      platform,
      args,
      version: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });

  it("gives paths relative to where the program runs: from infra/, as under the Pulumi CLI, the root is ..", () => {
    const previous = process.cwd();
    process.chdir(join(repoRoot, "infra"));
    try {
      expect(imageBuildSettings()).toMatchObject({ context: "..", dockerfile: join("..", "Dockerfile") });
    } finally {
      process.chdir(previous);
    }
  });

  it("versions the image by its inputs: the same inputs the same version, another base image or platform another", () => {
    const plain = imageBuildSettings().version;
    expect(imageBuildSettings().version).toBe(plain);
    expect(imageBuildSettings({ buildArgs: { RUNTIME_IMAGE: "mirror/distroless:24" } }).version).not.toBe(plain);
    expect(imageBuildSettings({ platform: "linux/arm64" }).version).not.toBe(plain);
    // Docker's predefined proxy args change nothing in the image, so nothing in its version.
    expect(imageBuildSettings({ buildArgs: { HTTPS_PROXY: "http://proxy:3128", no_proxy: "localhost" } }).version).toBe(
      plain,
    );
  });

  it("refuses APP_VERSION among the build args: the image carries no version, the deployment sets it", () => {
    expect(() => imageBuildSettings({ buildArgs: { APP_VERSION: "abc" } })).toThrow(
      "imageBuildSettings: the image carries no version; the deployment sets APP_APPLICATION__VERSION instead of the APP_VERSION build arg",
    );
  });
});

describe("the image's constants", () => {
  // Read from the files themselves, so that a change to the Dockerfile, the configuration or the routes that isn't
  // made here too fails this test.
  const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
  const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);

  it("SERVICE_PORT is the port configuration/base.yaml listens on and the Dockerfile exposes", () => {
    const base = parse(readFileSync(join(repoRoot, "configuration/base.yaml"), "utf8"));
    expect(base.application.port).toBe(SERVICE_PORT);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${SERVICE_PORT}$`, "m"));
  });

  it("RUNTIME_TARGET is the Dockerfile's last stage, the one a plain `docker build` produces", () => {
    expect(stages.at(-1)).toBe(RUNTIME_TARGET);
  });

  it("HEALTH_CHECK_PATH is the route the app declares", () => {
    const routes = readFileSync(join(repoRoot, "app/src/routes/health-check.ts"), "utf8");
    expect(routes).toContain(`"${HEALTH_CHECK_PATH}"`);
  });

  it("the Dockerfile bakes no version or commit into the image (no APP_VERSION arg, label or env)", () => {
    expect(dockerfile).not.toMatch(
      /^ARG APP_VERSION|org\.opencontainers\.image\.(version|revision)|^ENV APP_APPLICATION__VERSION/m,
    );
  });

  it("the runtime stage has an empty ENTRYPOINT and SERVER_ARGV as its whole CMD, so nothing is prepended to a run command", () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(runtime.match(/^ENTRYPOINT .*$/gm)).toEqual(["ENTRYPOINT []"]);
    expect(runtime.match(/^CMD .*$/gm)).toEqual([`CMD ${JSON.stringify(SERVER_ARGV).replaceAll(",", ", ")}`]);
  });

  it("MIGRATE_ARGV runs the migrate bundle with the runtime image's node, next to the server's bundle", () => {
    expect(MIGRATE_ARGV[0]).toBe(SERVER_ARGV[0]);
    expect(MIGRATE_ARGV[1]).toBe("/app/dist/migrate.js");
    expect(SERVER_ARGV[1]).toBe("/app/dist/server.js");
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
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
