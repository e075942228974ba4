// What the rest of the stack needs to know about the container image that the repository's Dockerfile builds.
// Pure: no Pulumi resources, no environment reads. The DigitalOcean program and the local Docker stack import these
// values instead of restating them, so a change to the Dockerfile is made (and reviewed) in one place.
import * as path from "node:path";
import { imageInputsVersion } from "./version";

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
 * App Platform's spec says only that `run_command` is "An optional run command to override the component's default"
 * (github.com/digitalocean/openapi, specification/resources/apps/models/app_component_base.yml), and the glossary
 * treats run commands as shell lines that "can be compound (joined by && or separated by newlines)"
 * (https://docs.digitalocean.com/glossary/command/). Its container starter joins ENTRYPOINT and CMD and resolves
 * argv[0] in PATH ("starting non-root container [...]: error finding executable "" in PATH", steamcmd/api#24). So the
 * command is built to give the same process under each model a platform could use:
 *   1. it replaces the ENTRYPOINT (Docker's `--entrypoint`, which also drops CMD): argv = MIGRATE_ARGV;
 *   2. it replaces CMD and the ENTRYPOINT stays (Kubernetes `args`): the image has no ENTRYPOINT (Dockerfile,
 *      `ENTRYPOINT []`), so again argv = MIGRATE_ARGV. With the base image's `ENTRYPOINT ["/nodejs/bin/node"]` this
 *      model would run `node /nodejs/bin/node /app/dist/migrate.js` and fail every deploy;
 *   3. it is wrapped in `/bin/sh -c` (in place of the ENTRYPOINT or after an empty one): distroless has no shell
 *      (https://github.com/GoogleContainerTools/distroless#readme), so the runtime image carries Debian's dash as
 *      `/bin/sh` (the Dockerfile's `shell` stage says why dash). The string has absolute paths and nothing to quote
 *      or expand, so the shell execs exactly MIGRATE_ARGV. Without that /bin/sh this model can't work at all: the
 *      platform would fail to exec `/bin/sh` before node starts, so keep the shell stage as long as this model is
 *      possible.
 * tests/infra/spec-conformance.test.ts runs the spec's job under all three against a real Postgres.
 */
export const MIGRATE_ARGV: readonly [node: string, script: string] = Object.freeze([
  "/nodejs/bin/node",
  "/app/dist/migrate.js",
] as const);

/**
 * The server's argv: the image's CMD, whole (the image has no ENTRYPOINT; see MIGRATE_ARGV for why). A platform that
 * starts the image without a run command therefore runs exactly this, under any of the three models.
 */
export const SERVER_ARGV: readonly [node: string, script: string] = Object.freeze([
  MIGRATE_ARGV[0],
  "/app/dist/server.js",
] as const);

/** `MIGRATE_ARGV` as the single string App Platform's `run_command` takes (split on spaces, it is the argv again). */
export const MIGRATE_COMMAND: string = MIGRATE_ARGV.join(" ");

/** The build stage that is deployed (also the Dockerfile's last, default stage). */
export const RUNTIME_TARGET = "runtime";

/**
 * The environment variable that sets `application.version`, the version the app logs in its first line
 * (app/src/settings.ts, `APP_<SECTION>__<KEY>`). A deployment sets it; the image carries no version of its own, so
 * that a new commit with the same files builds, pushes and deploys nothing.
 */
export const VERSION_VARIABLE = "APP_APPLICATION__VERSION";

export interface ImageBuildInput {
  /** App Platform runs linux/amd64 containers. */
  readonly platform?: string;
  /**
   * Extra build args, e.g. `BUILD_IMAGE` / `RUNTIME_IMAGE` (a mirror of the official base images) or
   * `NPM_CONFIG_REGISTRY` (a private npm mirror). Never put a secret here: build args are recorded in the image's
   * history. Credentials and CA bundles go through the `npmrc` / `ca` secret mounts documented in the Dockerfile.
   */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** The checkout to build from; the repository this file belongs to by default. */
  readonly root?: string;
}

export interface ImageBuildSettings {
  /** The build context (the repository root), relative to the working directory. */
  readonly context: string;
  /** The Dockerfile, relative to the working directory. */
  readonly dockerfile: string;
  readonly target: typeof RUNTIME_TARGET;
  readonly platform: string;
  readonly args: Readonly<Record<string, string>>;
  /** The content hash of everything above that decides the image (infra/version.ts): its tag and its version. */
  readonly version: string;
}

/**
 * How to build the deployable image; feed it to `docker build` or to `@pulumi/docker`'s `Image` build settings.
 *
 * The paths are relative to the working directory, never absolute: docker.Image stores them as inputs, and an
 * absolute path would differ between a laptop and a CI runner and so rebuild and redeploy for nothing. Relative to
 * the working directory because that is what the provider resolves them against (pulumi-docker provider/provider.go,
 * Check: `os.Stat(build.Dockerfile)`; provider/image.go, dockerBuild: `clibuild.GetContextFromLocalDir`), and the
 * engine starts the program and the provider plugins in the same directory: the folder of Pulumi.yaml's `main`
 * (pulumi/pulumi pkg/engine/project.go, getPwdMain; sdk/go/common/resource/plugin/provider_plugin.go, NewProvider:
 * `newPlugin(ctx, ctx.Pwd, ...)`), so `infra/` under the CLI, and `..` is the root wherever the checkout is.
 */
export function imageBuildSettings(input: ImageBuildInput = {}): ImageBuildSettings {
  if (input.buildArgs !== undefined && "APP_VERSION" in input.buildArgs) {
    throw new Error(
      `imageBuildSettings: the image carries no version; the deployment sets ${VERSION_VARIABLE} instead of the APP_VERSION build arg`,
    );
  }
  const root = input.root ?? repoRoot;
  const context = path.relative(process.cwd(), root) || ".";
  const settings = {
    context,
    dockerfile: path.join(context, "Dockerfile"),
    target: RUNTIME_TARGET as typeof RUNTIME_TARGET,
    platform: input.platform ?? "linux/amd64",
    args: Object.freeze({ ...input.buildArgs }),
  };
  const version = imageInputsVersion({ ...settings, context: root, dockerfile: "Dockerfile" });
  return Object.freeze({ ...settings, version });
}
