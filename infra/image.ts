// What the rest of the stack needs to know about the container image that the repository's Dockerfile builds.
// Pure: no Pulumi resources, no environment reads. The DigitalOcean program and the local Docker stack import these
// values instead of restating them, so a change to the Dockerfile is made (and reviewed) in one place.
import * as path from "node:path";

/** The repository root: the Docker build context (the Dockerfile expects `app/` and `configuration/` in it). */
const repoRoot = path.resolve(__dirname, "..");

/** The port the server listens on (configuration/base.yaml `application.port`) and the Dockerfile EXPOSEs. */
export const SERVICE_PORT = 8000;

/** The route that answers 200 once the server is up; App Platform's health check and the tests poll it. */
export const HEALTH_CHECK_PATH = "/health_check";

/**
 * The migration step, run from the same image before the new version serves (App Platform: a PRE_DEPLOY job's
 * `run_command`; locally: the migrate container's command).
 *
 * App Platform runs a job's `run_command` in place of the image's entrypoint, and its docs don't say whether it is
 * executed directly or through `/bin/sh -c`: the app spec reference only says "An optional run command to override
 * the component's default" (https://docs.digitalocean.com/products/app-platform/reference/app-spec/), while the
 * glossary treats run commands as shell lines that "can be compound (joined by && or separated by newlines)"
 * (https://docs.digitalocean.com/glossary/command/). So the command works both ways:
 *   - directly: absolute paths (distroless has no `node` on the default PATH), no quoting or variables, so splitting
 *     it on spaces gives exactly `MIGRATE_ARGV`;
 *   - through `sh -c`: the runtime image carries `/bin/sh` (Debian's dash, 123 KiB; distroless has no shell of its
 *     own, https://github.com/GoogleContainerTools/distroless#readme). The Dockerfile's `shell` stage says why dash.
 * tests/container/image.test.ts runs it both ways against a real Postgres.
 */
export const MIGRATE_ARGV: readonly [node: string, script: string] = Object.freeze([
  "/nodejs/bin/node",
  "/app/dist/migrate.js",
] as const);

/** `MIGRATE_ARGV` as the single string App Platform's `run_command` takes (split on spaces, it is the argv again). */
export const MIGRATE_COMMAND: string = MIGRATE_ARGV.join(" ");

/** The build stage that is deployed (also the Dockerfile's last, default stage). */
export const RUNTIME_TARGET = "runtime";

export interface ImageBuildInput {
  /** The version the image reports: the git SHA. Becomes the `APP_VERSION` build arg (OCI label + app setting). */
  readonly appVersion: string;
  /** App Platform runs linux/amd64 containers. */
  readonly platform?: string;
  /**
   * Extra build args, e.g. `BUILD_IMAGE` / `RUNTIME_IMAGE` (a mirror of the official base images) or
   * `NPM_CONFIG_REGISTRY` (a private npm mirror). Never put a secret here: build args are recorded in the image's
   * history. Credentials and CA bundles go through the `npmrc` / `ca` secret mounts documented in the Dockerfile.
   */
  readonly buildArgs?: Readonly<Record<string, string>>;
}

export interface ImageBuildSettings {
  /** Absolute path of the build context (the repository root). */
  readonly context: string;
  /** Absolute path of the Dockerfile. */
  readonly dockerfile: string;
  readonly target: typeof RUNTIME_TARGET;
  readonly platform: string;
  readonly args: Readonly<Record<string, string>>;
}

/** How to build the deployable image; feed it to `docker build` or to `@pulumi/docker`'s `Image` build settings. */
export function imageBuildSettings(input: ImageBuildInput): ImageBuildSettings {
  if (input.appVersion.trim() === "") {
    throw new Error("imageBuildSettings: appVersion is empty; pass the git SHA the image is built from");
  }
  if (input.buildArgs !== undefined && "APP_VERSION" in input.buildArgs) {
    throw new Error("imageBuildSettings: pass the version as appVersion, not as buildArgs.APP_VERSION");
  }
  return Object.freeze({
    context: repoRoot,
    dockerfile: path.join(repoRoot, "Dockerfile"),
    target: RUNTIME_TARGET,
    platform: input.platform ?? "linux/amd64",
    args: Object.freeze({ ...input.buildArgs, APP_VERSION: input.appVersion }),
  });
}
