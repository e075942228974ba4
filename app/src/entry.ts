// What the image's entry points (server.ts, migrate.ts) and dev.ts share: settings from ./configuration under the
// working directory (WORKDIR /app in the image) and the process environment, or a clear message and exit code 1.
import { resolve } from "node:path";
import pino from "pino";
import { redactingOptions } from "./logger";
import { loadSettings, type Settings } from "./settings";

export function settingsOrExit(dir = resolve(process.cwd(), "configuration")): Settings {
  try {
    return loadSettings({ dir, env: process.env });
  } catch (error) {
    // A SettingsError names files, keys and variables, never a value. Anything else thrown here is a bug whose
    // message we don't control, so the secrets a deployment sets are still cut out of the line.
    const log = pino(
      redactingOptions(process.env.APP_DATABASE__PASSWORD, process.env.APP_EMAIL_CLIENT__AUTHORIZATION_TOKEN),
    );
    log.fatal(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
