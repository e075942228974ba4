// Data access for subscriptions: one statement, with the only privilege the service needs on the table (INSERT).
import type { Database } from "./database";
import type { EmailAddress } from "./email-address";

export interface NewSubscription {
  readonly email: EmailAddress;
  readonly name: string;
}

/**
 * Store a subscription once. A second one for the same subscriber (the same canonical address, email-address.ts) is
 * silently ignored, so the caller can answer the same way whether or not the address was already subscribed (no way
 * to probe who is on the list). The unique constraint on email_canonical decides, so two requests racing for one
 * address store one row: the second INSERT waits for the first to commit, then skips.
 * The statement needs the INSERT privilege and nothing else. That is why the conflict has no target: naming one
 * (`ON CONFLICT (email_canonical)`) makes Postgres also require SELECT on that column, as would `RETURNING`, and
 * `DO UPDATE` would need UPDATE (https://www.postgresql.org/docs/current/sql-insert.html). The other unique keys
 * are the random uuid and the address as typed, whose duplicates are duplicates of the canonical form too.
 */
export async function subscribe(db: Database, subscription: NewSubscription): Promise<void> {
  await db.query(
    "INSERT INTO subscriptions (email, email_canonical, name, subscribed_at) VALUES ($1, $2, $3, now()) " +
      "ON CONFLICT DO NOTHING",
    [subscription.email.address, subscription.email.canonical, subscription.name],
  );
}
