// The images a per-PR stack leaves in the shared registry. Every deploy of PR n pushes
// `registry.digitalocean.com/<registry>/<repository>:pr-<n>-<version>` (infra/container-image.ts, imageTag), and the
// stack exports the name before the `:` as `imageRepository` (infra/index.ts). `pulumi destroy` removes the app but
// not those tags; `review down` and the reaper delete them here, after the stack is destroyed.
import type { RegistryRepository } from "./digitalocean";
import { OpsError } from "./errors";
import type { StackOutputs } from "./pulumi";
import { OUTPUT, outputString } from "./reports";
import { prStackName } from "./stacks";

/** DigitalOcean Container Registry's one host (infra/registry.ts, `serverUrl`). */
const DOCR_HOST = "registry.digitalocean.com";

/** The two registry calls a teardown needs (ops/digitalocean.ts). */
export interface RegistryTags {
  listRepositoryTags(repository: RegistryRepository): Promise<string[]>;
  deleteRepositoryTag(repository: RegistryRepository, tag: string): Promise<void>;
}

/** `pr-<n>-`: the stack name and imageTag's separator, so PR 4's prefix is not a prefix of PR 42's tags. */
export function prTagPrefix(pr: number): string {
  return `${prStackName(pr)}-`;
}

/** The tags PR `pr` pushed: exactly those that start with `pr-<n>-`. */
export function prImageTags(tags: readonly string[], pr: number): string[] {
  const prefix = prTagPrefix(pr);
  return tags.filter((tag) => tag.startsWith(prefix));
}

/** `registry.digitalocean.com/<registry>/<repository>` → its parts; undefined for other names (or with a tag). */
export function parseImageRepository(name: string): RegistryRepository | undefined {
  if (!name.startsWith(`${DOCR_HOST}/`)) return undefined;
  const path = name.slice(DOCR_HOST.length + 1);
  const slash = path.indexOf("/");
  const registry = path.slice(0, slash);
  const repository = path.slice(slash + 1);
  if (slash <= 0 || repository === "" || /[:@]/.test(path) || path.split("/").includes("")) return undefined;
  return { registry, repository };
}

export interface ImageCleanup {
  /** False when some of the PR's tags may be left: say it as a warning. */
  readonly complete: boolean;
  /** One line for people and for the reaper's report, naming what was deleted or what is left. */
  readonly text: string;
}

/**
 * Deletes the PR's image tags from the repository its stack exported. Never throws an OpsError: the environment is
 * already gone, so a tag that could not be deleted is something left behind (the returned text names it), not a
 * failed teardown.
 */
export async function deletePrImageTags(input: {
  readonly pr: number;
  /** The stack's outputs, read before it was destroyed; undefined when they could not be read. */
  readonly outputs: StackOutputs | undefined;
  /** undefined when DIGITALOCEAN_TOKEN is not set. */
  readonly registry: RegistryTags | undefined;
}): Promise<ImageCleanup> {
  const pattern = `${prTagPrefix(input.pr)}*`;
  const left = (where: string, why: string): ImageCleanup => ({
    complete: false,
    text: `image tags ${pattern} left in ${where}: ${why}`,
  });
  const name = input.outputs === undefined ? undefined : outputString(input.outputs, OUTPUT.imageRepository);
  if (name === undefined) {
    const why =
      input.outputs === undefined
        ? "the stack's outputs could not be read"
        : `the stack has no ${OUTPUT.imageRepository} output (deployed before it existed)`;
    return left("the registry", `${why}; delete them with \`doctl registry repository delete-tag\``);
  }
  const repository = parseImageRepository(name);
  if (repository === undefined) return left(name, `not a repository of ${DOCR_HOST}`);
  if (input.registry === undefined) return left(name, "DIGITALOCEAN_TOKEN is not set");

  let tags: string[];
  try {
    tags = prImageTags(await input.registry.listRepositoryTags(repository), input.pr);
  } catch (error) {
    if (!(error instanceof OpsError)) throw error;
    return left(name, `listing them failed: ${error.message}`);
  }
  const failures: string[] = [];
  for (const tag of tags) {
    try {
      await input.registry.deleteRepositoryTag(repository, tag);
    } catch (error) {
      if (!(error instanceof OpsError)) throw error;
      failures.push(`${tag} (${error.message})`);
    }
  }
  if (failures.length > 0) {
    return left(
      name,
      `deleted ${tags.length - failures.length} of ${tags.length}; not deleted: ${failures.join(", ")}`,
    );
  }
  return {
    complete: true,
    text:
      tags.length === 0
        ? `no image tags ${pattern} in ${name}`
        : `deleted ${tags.length} image tag${tags.length === 1 ? "" : "s"} ${pattern} from ${name}`,
  };
}
