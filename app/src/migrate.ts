// Entry point of the migration job (`node dist/migrate.js`): apply pending migrations, then exit (0 on success).
import pino from "pino";
import { redact } from "./database";
import { settingsOrExit } from "./entry";
import { loggerOptions } from "./logger";
import { runMigrations } from "./migrations";

const settings = settingsOrExit();
const log = pino(loggerOptions(settings));
log.info(`newsletter ${settings.application.version} migrating`);
runMigrations(settings, log).then(
  (applied) => {
    log.info({ applied }, applied.length > 0 ? `applied ${applied.length} migration(s)` : "already up to date");
    process.exit(0);
  },
  (error: unknown) => {
    log.error(redact(`migration failed: ${(error as Error).message}`, settings.database.password));
    process.exit(1);
  },
);
