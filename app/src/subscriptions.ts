// Data access for subscriptions: one statement, with the only privilege the service needs on the table (INSERT).
import type { Database } from "./database";

export interface NewSubscription {
  readonly email: string;
  readonly name: string;
}

/**
 * Store a subscription once. A second one for the same email is silently ignored, so the caller can answer the
 * same way whether or not the address was already subscribed (no way to probe who is on the list).
 * The statement needs the INSERT privilege and nothing else. That is why the conflict has no target: naming one
 * (`ON CONFLICT (email)`) makes Postgres also require SELECT on that column, as would `RETURNING`, and `DO UPDATE`
 * would need UPDATE (https://www.postgresql.org/docs/current/sql-insert.html). The only other unique key is the
 * random uuid, so the conflict skipped is in practice always the email's.
 */
export async function subscribe(db: Database, subscription: NewSubscription): Promise<void> {
  await db.query(
    "INSERT INTO subscriptions (email, name, subscribed_at) VALUES ($1, $2, now()) ON CONFLICT DO NOTHING",
    [subscription.email, subscription.name],
  );
}
