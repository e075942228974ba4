// The Docker client, for the container tests (through ./docker.ts) and for `npm run bench:image`. No vitest here, so
// plain tsx scripts can import it.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The client to use: `DOCKER` (set by .ci/run to one with BuildKit built in), else `docker` on PATH. */
export const dockerBin = process.env.DOCKER ?? "docker";

/**
 * Base-image overrides for `docker build`. On a normal machine none are set and the Dockerfile's official defaults
 * are pulled; where no registry is reachable, .ci/run exports stand-ins (STANDIN_BUILD_IMAGE, STANDIN_RUNTIME_IMAGE).
 */
export function baseImageBuildArgs(): Record<string, string> {
  const args: Record<string, string> = {};
  if (process.env.STANDIN_BUILD_IMAGE) args.BUILD_IMAGE = process.env.STANDIN_BUILD_IMAGE;
  if (process.env.STANDIN_RUNTIME_IMAGE) args.RUNTIME_IMAGE = process.env.STANDIN_RUNTIME_IMAGE;
  return args;
}

/**
 * The official image the Dockerfile builds `stage` from when no build arg replaces it: the `FROM <image> AS
 * official-<stage>` line (the Dockerfile says why they are stages, not ARG defaults).
 */
export function officialBaseImage(dockerfileSource: string, stage: "build" | "runtime"): string {
  const image = new RegExp(`^FROM (\\S+) AS official-${stage}$`, "m").exec(dockerfileSource)?.[1];
  if (image === undefined) throw new Error(`the Dockerfile has no "FROM <image> AS official-${stage}" line`);
  return image;
}

/** Run the Docker client; rejects with its stderr on a non-zero exit. */
export async function docker(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<string> {
  const { stdout } = await run(dockerBin, args, {
    env: { ...process.env, DOCKER_BUILDKIT: "1" },
    maxBuffer: 64 * 1024 * 1024,
    timeout: options.timeoutMs ?? 600_000,
  });
  return stdout.trim();
}

/** Run the Docker client and return its raw stdout (for `docker save`-sized output, use `-o FILE` instead). */
export async function dockerRaw(
  args: readonly string[],
  options: { timeoutMs?: number; env?: Readonly<Record<string, string>> } = {},
): Promise<{ stdout: string; stderr: string }> {
  // `env` reaches the client only: `docker run -e NAME` (no value) copies NAME from it, so values such as passwords
  // stay out of the command line.
  const { stdout, stderr } = await run(dockerBin, args, {
    env: { ...process.env, ...options.env, DOCKER_BUILDKIT: "1" },
    maxBuffer: 256 * 1024 * 1024,
    timeout: options.timeoutMs ?? 600_000,
  });
  return { stdout, stderr };
}

export interface BuildOptions {
  /** Build context; the repository root by default. */
  readonly context?: string;
  /** Dockerfile path; `<context>/Dockerfile` by default. */
  readonly dockerfile?: string;
  readonly tag: string;
  readonly target?: string;
  readonly platform?: string;
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** BuildKit secrets: id → source file. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** Ignore the layer cache (cache mounts such as npm's download cache are kept). */
  readonly noCache?: boolean;
}

/**
 * `docker build` with BuildKit and host networking (no bridge exists here). Returns the plain-progress build log
 * (BuildKit writes it to stderr), so callers can show which steps were CACHED.
 */
export async function buildImage(options: BuildOptions): Promise<string> {
  const context = options.context ?? process.cwd();
  const args = ["build", "--network", "host", "--progress", "plain", "-t", options.tag];
  args.push("-f", options.dockerfile ?? `${context}/Dockerfile`);
  if (options.target !== undefined) args.push("--target", options.target);
  if (options.platform !== undefined) args.push("--platform", options.platform);
  if (options.noCache) args.push("--no-cache");
  for (const [name, value] of Object.entries(options.buildArgs ?? {})) args.push("--build-arg", `${name}=${value}`);
  for (const [id, src] of Object.entries(options.secrets ?? {})) args.push("--secret", `id=${id},src=${src}`);
  args.push(context);
  try {
    const { stderr } = await dockerRaw(args, { timeoutMs: 900_000 });
    return stderr;
  } catch (error) {
    const detail = error instanceof Error && "stderr" in error ? String(error.stderr).slice(-4000) : String(error);
    throw new Error(`docker build ${options.tag} failed:\n${detail}`);
  }
}

/** Remove containers and images, ignoring the ones that are already gone (for afterAll). */
export async function removeQuietly(kind: "container" | "image", names: readonly string[]): Promise<void> {
  const present = names.filter((name) => name !== "");
  if (present.length === 0) return;
  const args = kind === "container" ? ["rm", "-f", "-v", ...present] : ["rmi", "-f", ...present];
  await docker(args).catch(() => {});
}

/** Build settings as the Pulumi programs hand them to docker.Image (infra/image.ts imageBuildSettings). */
export interface ProgramBuildSettings {
  readonly context: string;
  readonly dockerfile: string;
  readonly target: string;
  readonly platform: string;
  readonly args: Readonly<Record<string, string>>;
}

/** Build exactly what a program asked docker.Image for, with this machine's stand-in base images where set. */
export function buildFromProgramSettings(build: ProgramBuildSettings, tag: string): Promise<string> {
  return buildImage({
    context: build.context,
    dockerfile: build.dockerfile,
    target: build.target,
    platform: build.platform,
    buildArgs: { ...build.args, ...baseImageBuildArgs() },
    tag,
  });
}

/** The Dockerfile's npm download cache: a BuildKit cache mount, shared by every build of the image. */
const NPM_CACHE_MOUNT = "id=newsletter-npm,";

/**
 * The Dockerfile's text with an npm cache mount of its own (`newsletter-npm-<suffix>`), so that `npm ci` starts from
 * an empty download cache and has to reach the registry. Remove the mount afterwards with pruneCacheMountsSince.
 */
export function withOwnNpmCache(dockerfileSource: string, suffix: string): string {
  if (!dockerfileSource.includes(NPM_CACHE_MOUNT)) throw new Error(`the Dockerfile has no ${NPM_CACHE_MOUNT} mount`);
  return dockerfileSource.replace(NPM_CACHE_MOUNT, `id=newsletter-npm-${suffix},`);
}

/** IDs of BuildKit's cache mounts now. (`docker system df` doesn't show a mount's id, so new ones are found by set.) */
export async function cacheMountIds(): Promise<Set<string>> {
  const entries: Array<{ ID: string; CacheType: string }> = JSON.parse(
    await docker(["system", "df", "-v", "--format", "{{json .BuildCache}}"]),
  );
  return new Set(entries.filter((e) => e.CacheType === "exec.cachemount").map((e) => e.ID));
}

/** Remove the cache mounts created since `before` (cacheMountIds()), so that runs don't pile them up. */
export async function pruneCacheMountsSince(before: ReadonlySet<string>): Promise<void> {
  const now = await cacheMountIds().catch(() => new Set<string>());
  for (const mount of now) {
    if (!before.has(mount)) await docker(["builder", "prune", "-f", "--filter", `id=${mount}`]).catch(() => {});
  }
}
