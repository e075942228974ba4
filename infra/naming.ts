// Physical names for cloud resources: one pure helper so every resource carries the project and stack
// (`newsletter-pr-42-db`), uses only the characters every provider accepts, and fits the provider's length limit.
// Modelled on sst/sst `platform/src/components/naming.ts`: sanitise, then cut and keep uniqueness with a short hash.
import { createHash } from "node:crypto";

export interface PhysicalNameInput {
  /** The Pulumi project, e.g. `newsletter`. */
  readonly project: string;
  /** The Pulumi stack, e.g. `production`, `pr-42`, `local`. */
  readonly stack: string;
  /** What the resource is, e.g. `db`; omitted for the stack's main resource (the app). */
  readonly suffix?: string;
  /** The provider's maximum length for this kind of name. */
  readonly maxLength: number;
}

/** Length of the hash appended when a name has to be cut (collision-safe enough for one account's resources). */
const HASH_LENGTH = 6;

/** Lower-case, only `[a-z0-9-]`, no repeated, leading or trailing hyphens. */
export function sanitizeName(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * `<project>-<stack>[-<suffix>]`, sanitised and at most `maxLength` characters. A name that is too long is cut and
 * ends in a hash of the full name, so two long stack names that share a prefix still get different names. The
 * result starts with a letter or digit and ends with one, which DigitalOcean's app, database and registry names need.
 */
export function physicalName(input: PhysicalNameInput): string {
  const { project, stack, suffix, maxLength } = input;
  if (!Number.isInteger(maxLength) || maxLength < HASH_LENGTH + 2) {
    throw new Error(`physicalName: maxLength must be an integer of at least ${HASH_LENGTH + 2}, got ${maxLength}`);
  }
  const full = sanitizeName([project, stack, suffix].filter((part) => part !== undefined && part !== "").join("-"));
  if (full === "") throw new Error(`physicalName: "${project}-${stack}" has no usable characters`);
  if (full.length <= maxLength) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, HASH_LENGTH);
  const head = full.slice(0, maxLength - HASH_LENGTH - 1).replace(/-+$/, "");
  return `${head}-${hash}`;
}

/**
 * What marks a cloud resource as this project's and this stack's: `pulumi:newsletter:pr-42`. Database clusters
 * carry it as a tag (tag names take letters, digits, `:`, `-` and `_`; DigitalOcean API reference, tags), and every
 * stack's DigitalOcean project carries it in its description (apps take no tags: digitalocean/openapi,
 * specification/resources/apps/models/app.yml has none, only `project_id`). The reaper deletes only what carries
 * the identity of a per-PR stack that no longer exists (ops/leftovers.ts), never by name alone.
 */
export function stackIdentity(project: string, stack: string): string {
  const parts = [sanitizeName(project), sanitizeName(stack)];
  if (parts.some((part) => part === "")) throw new Error(`stackIdentity: "${project}" / "${stack}" is not usable`);
  return `pulumi:${parts.join(":")}`;
}

/** The project and stack of an identity written by stackIdentity, if `text` is one. */
export function parseStackIdentity(text: string): { project: string; stack: string } | undefined {
  const match = /^pulumi:([a-z0-9-]+):([a-z0-9-]+)$/.exec(text);
  return match?.[1] === undefined || match[2] === undefined ? undefined : { project: match[1], stack: match[2] };
}
