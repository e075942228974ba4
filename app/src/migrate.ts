// Entry point of the migration job (`node dist/migrate.js`): apply pending migrations, then exit (0 on success).
import pino from "pino";
import { redact } from "./database";
import { settingsOrExit } from "./entry";
import { loggerOptions } from "./logger";
import { runMigrations } from "./migrations";

const settings = settingsOrExit();
const log = pino(loggerOptions(settings));
log.info(`newsletter ${settings.application.version} migrating`);
/**
 * Exit once the last line is written. pino's default stdout writer is asynchronous (sonic-boom, `sync: false`), so
 * an immediate process.exit can race a write still in flight; the last line is the one that says why a deploy
 * failed (a stuck lock, a refused connection), so it must not be lost.
 */
const exit = (code: number) => log.flush(() => process.exit(code));
runMigrations(settings, log).then(
  (applied) => {
    log.info({ applied }, applied.length > 0 ? `applied ${applied.length} migration(s)` : "already up to date");
    exit(0);
  },
  (error: unknown) => {
    log.error(redact(`migration failed: ${(error as Error).message}`, settings.database.password));
    exit(1);
  },
);
