// Data access for subscriptions: one statement, with the only privilege the service needs on the table (INSERT).
import type { Database } from "./database";

export interface NewSubscription {
  readonly email: string;
  readonly name: string;
}

/**
 * Store a subscription once. A second one for the same email is silently ignored, so the caller can answer the
 * same way whether or not the address was already subscribed (no way to probe who is on the list).
 * `ON CONFLICT DO NOTHING` needs INSERT only; `DO UPDATE` would also need UPDATE, and `RETURNING` SELECT.
 * https://www.postgresql.org/docs/current/sql-insert.html
 */
export async function subscribe(db: Database, subscription: NewSubscription): Promise<void> {
  await db.query(
    "INSERT INTO subscriptions (email, name, subscribed_at) VALUES ($1, $2, now()) ON CONFLICT (email) DO NOTHING",
    [subscription.email, subscription.name],
  );
}
