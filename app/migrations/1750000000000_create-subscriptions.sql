-- Up Migration
-- One row per subscriber (Zero To Production, chapter 3). The service only inserts rows; creating this table is
-- the migration job's work, so the service's database user needs nothing beyond INSERT on it.
-- gen_random_uuid() is built into PostgreSQL 13 and later: no extension needed.
CREATE TABLE subscriptions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  subscribed_at timestamptz NOT NULL
);

-- Down Migration
DROP TABLE subscriptions;
