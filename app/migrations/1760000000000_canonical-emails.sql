-- Up Migration
-- One subscriber per address however it is typed: beside the address as typed (where mail goes), the canonical form
-- the service computes (app/src/email-address.ts: NFC, lower case, an ASCII domain, needless quotes dropped), with a
-- unique constraint. The constraint, not a lookup before the insert, is what holds when two requests race.
ALTER TABLE subscriptions ADD COLUMN email_canonical text;

-- Rows stored before: lower(normalize(email, NFC)) is what the service computes for an address with an ASCII domain
-- and an unquoted local part, which is nearly every address. An internationalised domain or a quoted local part gets
-- an approximation here (the punycode conversion only exists in the service). normalize() needs a UTF8 database
-- (https://www.postgresql.org/docs/current/functions-string.html); a SQL_ASCII one only gets lower(). Where older
-- rows already share a canonical form (x@example.com and x@EXAMPLE.COM), the earliest keeps it and the later ones
-- keep NULL: nothing is deleted, and a unique constraint lets NULLs repeat.
WITH canonical AS (
  SELECT id, subscribed_at,
         CASE WHEN current_setting('server_encoding') = 'UTF8' THEN lower(normalize(email, NFC)) ELSE lower(email) END
           AS form
  FROM subscriptions
), ranked AS (
  SELECT id, form, row_number() OVER (PARTITION BY form ORDER BY subscribed_at, id) AS rank FROM canonical
)
UPDATE subscriptions AS s
SET email_canonical = ranked.form
FROM ranked
WHERE s.id = ranked.id AND ranked.rank = 1;

ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_email_canonical_key UNIQUE (email_canonical);
-- Every new row has one. NOT VALID: the check holds for rows written from now on, not for the older duplicates above.
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_email_canonical_set CHECK (email_canonical IS NOT NULL) NOT VALID;

-- Down Migration
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_email_canonical_set;
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_email_canonical_key;
ALTER TABLE subscriptions DROP COLUMN email_canonical;
