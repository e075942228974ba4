// Entry point of the image (`node dist/server.js`): settings from ./configuration and the environment, then serve.
import { resolve } from "node:path";
import pino from "pino";
import { serve } from "./serve";
import { loadSettings, type Settings } from "./settings";

function main(): void {
  let settings: Settings;
  try {
    settings = loadSettings({ dir: resolve(process.cwd(), "configuration"), env: process.env });
  } catch (error) {
    // No settings, so no password to hide yet; the message names the variable or file and the key.
    pino().fatal((error as Error).message);
    process.exit(1);
  }
  serve(settings).then(
    async (server) => process.exit(await server.stopped),
    (error: unknown) => {
      pino().fatal({ err: error }, "could not start");
      process.exit(1);
    },
  );
}

main();
