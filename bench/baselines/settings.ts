// The settings a baseline process runs with: the app's own loader and the same APP_* environment the app gets, so
// a baseline talks to the same database with the same pool settings.
import { resolve } from "node:path";
import { loadSettings, type Settings } from "../../app/src/settings";

export function baselineSettings(): Settings {
  return loadSettings({ dir: resolve(process.cwd(), "configuration"), env: process.env });
}

/** A database logger that drops everything: the baselines write no log lines. */
export const silent = { warn: () => {} };
