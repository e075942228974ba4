// The reaper's decision, as a pure function of what it was shown: the stacks in the backend (name, tags, last
// update), the PRs that are open, and the time. Destroying is done elsewhere; here is only who and why.
import { PRODUCTION, prNumberOf } from "./stacks";
import { formatTtl, readReviewTags, TAG } from "./tags";

export interface StackState {
  /** Short stack name (`pr-42`, `production`). */
  readonly name: string;
  /** The stack's tags, or undefined when they could not be read. */
  readonly tags?: Readonly<Record<string, string>>;
  /** ISO time of the stack's last update, from `pulumi stack ls`. */
  readonly lastUpdate?: string;
  readonly updateInProgress?: boolean;
}

export interface ReapInput {
  readonly stacks: readonly StackState[];
  /** Every open PR of the repository. Must be the complete list: a PR missing here counts as closed. */
  readonly openPrs: ReadonlySet<number>;
  readonly now: Date;
  /** Applied to a PR stack whose tags are missing or broken, counted from its last update. */
  readonly defaultTtlMs: number;
}

export type ReapAction = "destroy" | "keep";

export interface ReapDecision {
  readonly stack: string;
  readonly pr?: number;
  readonly action: ReapAction;
  readonly reason: string;
}

/**
 * When a time to live that started at `from` runs out, or undefined when that is past the last instant a Date can
 * hold (±8.64e15 ms, ECMA-262 "Time Values and Time Range"): a tag such as `+275760-09-13T00:00:00.000Z` parses,
 * but adding the time to live gives an invalid Date, whose toISOString() throws a RangeError.
 */
function expiry(from: Date, ttlMs: number, now: Date): { expired: boolean; at: Date } | undefined {
  const at = new Date(from.getTime() + ttlMs);
  if (Number.isNaN(at.getTime())) return undefined;
  return { expired: now.getTime() >= at.getTime(), at };
}

function decideOne(stack: StackState, input: ReapInput): ReapDecision {
  const pr = prNumberOf(stack.name);
  // Only `pr-<number>` stacks are ever candidates. Production is named first so that the rule is visible in the
  // report; every other name (local, a hand-made stack) is kept the same way.
  if (stack.name === PRODUCTION) return { stack: stack.name, action: "keep", reason: "production is never reaped" };
  if (pr === undefined) return { stack: stack.name, action: "keep", reason: "not a per-PR stack" };
  const keep = (reason: string): ReapDecision => ({ stack: stack.name, pr, action: "keep", reason });
  const destroy = (reason: string): ReapDecision => ({ stack: stack.name, pr, action: "destroy", reason });

  if (stack.updateInProgress === true) return keep("an update is running; the next run decides");
  if (!input.openPrs.has(pr)) return destroy(`PR #${pr} is closed`);

  const reading =
    stack.tags === undefined ? { ok: false as const, problem: "tags unreadable" } : readReviewTags(stack.tags);
  let problem: string;
  if (reading.ok && reading.tags.pr === pr) {
    // A deploy time later than now would keep the stack until then, however long nobody deploys: not trusted.
    const fromThePast = reading.tags.deployedAt.getTime() <= input.now.getTime();
    const due = fromThePast ? expiry(reading.tags.deployedAt, reading.tags.ttlMs, input.now) : undefined;
    if (due !== undefined) {
      const ttl = formatTtl(reading.tags.ttlMs);
      return due.expired
        ? destroy(`no deploy for its time to live of ${ttl} (expired ${due.at.toISOString()})`)
        : keep(`PR #${pr} is open; expires ${due.at.toISOString()} (time to live ${ttl})`);
    }
    problem = `tag ${TAG.deployedAt} is in the future`;
  } else {
    problem = reading.ok ? `tag says PR #${reading.tags.pr}, name says #${pr}` : reading.problem;
  }
  // A missing or unreadable last update is an invalid Date, for which expiry() has no answer either.
  const due = expiry(new Date(stack.lastUpdate ?? Number.NaN), input.defaultTtlMs, input.now);
  if (due === undefined) {
    return keep(`PR #${pr} is open, but its review tags are unusable (${problem}) and it has no last update: check it`);
  }
  const { expired, at } = due;
  const ttl = formatTtl(input.defaultTtlMs);
  return expired
    ? destroy(`review tags unusable (${problem}); no update for the default time to live of ${ttl}`)
    : keep(`PR #${pr} is open; review tags unusable (${problem}); expires ${at.toISOString()} (default ${ttl})`);
}

/** One decision per stack: other stacks first (by name), then PR stacks by number. */
export function decideReap(input: ReapInput): ReapDecision[] {
  return input.stacks
    .map((stack) => decideOne(stack, input))
    .sort((a, b) => (a.pr ?? 0) - (b.pr ?? 0) || a.stack.localeCompare(b.stack));
}
