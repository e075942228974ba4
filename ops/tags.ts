// The metadata a per-PR stack carries, as Pulumi stack tags: which PR, when it was created, how long it may live
// without a deploy, which commit it runs and when that was deployed. The reaper decides from these alone (plus the
// list of open PRs). The time to live counts from the last deploy, not from creation: a PR that is pushed to every
// day keeps its environment, one that nobody touched for the TTL loses it (the next push creates it again).
//
// Stack tags on a DIY (self-managed) backend: before Pulumi CLI 3.211.0 `pulumi stack tag set` was a silent no-op on
// file/S3 backends (pulumi/docs#890). 3.211.0 added stack tags to DIY backends, stored as a `.pulumi-tags` file next
// to each stack's checkpoint, deleted with the stack (pulumi/pulumi#19882, "Freeze v3.211.0" pulumi/pulumi#21203).
// So tags work on the DigitalOcean Spaces backend with the CLI version the workflows pin, and `review up` reads them
// back after writing (`verifyTags`) so an older CLI fails loudly instead of creating an untracked stack.
// Names follow Pulumi Cloud's rules (at most 40 characters of letters, digits, `-_.:`), which the DIY backend does
// not check (pulumi/pulumi#24428): the same tags then survive a move to Pulumi Cloud.
import { ExitCode, OpsError, usageError } from "./errors";

export const TAG = {
  pr: "review:pr",
  createdAt: "review:created-at",
  ttl: "review:ttl",
  commit: "review:commit",
  deployedAt: "review:deployed-at",
} as const;

export interface ReviewTags {
  readonly pr: number;
  /** When the stack was first created (kept across later `review up` runs). */
  readonly createdAt: Date;
  /** How long the stack may go without a deploy before the reaper destroys it. */
  readonly ttlMs: number;
  /** The commit last deployed to it. */
  readonly commit: string;
  /** When `review up` last ran for it: the time to live counts from here. */
  readonly deployedAt: Date;
}

const HOUR = 3_600_000;
const UNIT_MS = { m: 60_000, h: HOUR, d: 24 * HOUR } as const;
/** Longer than this is not a review environment any more; it is a second production nobody pays attention to. */
export const MAX_TTL_MS = 30 * 24 * HOUR;
export const DEFAULT_TTL = "72h";

/** `90m`, `72h`, `7d` → milliseconds. */
export function parseTtl(raw: string): number {
  const match = /^([1-9][0-9]{0,5})([mhd])$/.exec(raw.trim());
  if (match === null) {
    throw usageError(`invalid time to live "${raw}": expected a number and a unit m, h or d, such as 72h or 7d`);
  }
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms > MAX_TTL_MS) throw usageError(`time to live "${raw}" is longer than the maximum of 30d`);
  return ms;
}

/** The shortest exact form: 72h stays `72h`, 48h becomes `2d`, 90m stays `90m`. */
export function formatTtl(ms: number): string {
  if (ms % UNIT_MS.d === 0) return `${ms / UNIT_MS.d}d`;
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  return `${Math.round(ms / UNIT_MS.m)}m`;
}

const COMMIT = /^[0-9a-f]{7,40}$/;

export function parseCommit(raw: string): string {
  const commit = raw.trim().toLowerCase();
  if (!COMMIT.test(commit)) throw usageError(`invalid commit "${raw}": expected 7 to 40 hexadecimal characters`);
  return commit;
}

export function toTagMap(tags: ReviewTags): Record<string, string> {
  return {
    [TAG.pr]: String(tags.pr),
    [TAG.createdAt]: tags.createdAt.toISOString(),
    [TAG.ttl]: formatTtl(tags.ttlMs),
    [TAG.commit]: tags.commit,
    [TAG.deployedAt]: tags.deployedAt.toISOString(),
  };
}

export type TagReading =
  | { readonly ok: true; readonly tags: ReviewTags }
  | { readonly ok: false; readonly problem: string };

/** Parse the review tags of a stack; a stack without them (or with broken ones) is reported, never guessed at. */
export function readReviewTags(map: Readonly<Record<string, string>>): TagReading {
  const tag = (key: string): string => map[key] ?? "";
  const missing = Object.values(TAG).filter((key) => tag(key) === "");
  if (missing.length > 0) return { ok: false, problem: `missing tags ${missing.join(", ")}` };
  const pr = Number(tag(TAG.pr));
  if (!/^[1-9][0-9]*$/.test(tag(TAG.pr))) return { ok: false, problem: `tag ${TAG.pr} is not a PR number` };
  const createdAt = new Date(tag(TAG.createdAt));
  if (Number.isNaN(createdAt.getTime())) return { ok: false, problem: `tag ${TAG.createdAt} is not a timestamp` };
  const deployedAt = new Date(tag(TAG.deployedAt));
  if (Number.isNaN(deployedAt.getTime())) return { ok: false, problem: `tag ${TAG.deployedAt} is not a timestamp` };
  let ttlMs: number;
  try {
    ttlMs = parseTtl(tag(TAG.ttl));
  } catch {
    return { ok: false, problem: `tag ${TAG.ttl} is not a time to live` };
  }
  return { ok: true, tags: { pr, createdAt, ttlMs, commit: tag(TAG.commit), deployedAt } };
}

/**
 * The tags `review up` writes: a new stack gets `now` as its creation time; an existing one keeps the time it
 * already carries, so "created" means created, while commit, TTL and deploy time follow the latest run.
 */
export function nextReviewTags(input: {
  readonly pr: number;
  readonly commit: string;
  readonly ttlMs: number;
  readonly now: Date;
  readonly existing: Readonly<Record<string, string>>;
}): Record<string, string> {
  const previous = readReviewTags(input.existing);
  const createdAt = previous.ok && previous.tags.pr === input.pr ? previous.tags.createdAt : input.now;
  return toTagMap({ pr: input.pr, createdAt, ttlMs: input.ttlMs, commit: input.commit, deployedAt: input.now });
}

/** Fail when the backend did not keep what was written (a Pulumi CLI older than 3.211.0 on a DIY backend). */
export function verifyTags(
  written: Readonly<Record<string, string>>,
  readBack: Readonly<Record<string, string>>,
): void {
  const lost = Object.entries(written).filter(([key, value]) => readBack[key] !== value);
  if (lost.length > 0) {
    throw new OpsError(
      `the state backend did not keep the stack tags ${lost.map(([key]) => key).join(", ")}; ` +
        "self-managed backends store stack tags from Pulumi CLI 3.211.0 on: upgrade the Pulumi CLI " +
        "(https://www.pulumi.com/docs/install/) and run this again",
      ExitCode.prerequisite,
    );
  }
}
