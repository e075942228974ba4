// What the image's entry points (server.ts, migrate.ts) share: settings from ./configuration under the working
// directory (WORKDIR /app in the image) and the process environment, or a clear message and exit code 1.
import { resolve } from "node:path";
import pino from "pino";
import { loadSettings, type Settings } from "./settings";

export function settingsOrExit(): Settings {
  try {
    return loadSettings({ dir: resolve(process.cwd(), "configuration"), env: process.env });
  } catch (error) {
    // No settings, so no password to hide yet; the message names the variable or file, the key and the type.
    pino().fatal((error as Error).message);
    process.exit(1);
  }
}
