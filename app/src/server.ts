// Entry point of the image (`node dist/server.js`): settings from ./configuration and the environment, then serve
// until SIGTERM.
import pino from "pino";
import { settingsOrExit } from "./entry";
import { serve } from "./serve";

serve(settingsOrExit()).then(
  async (server) => process.exit(await server.stopped),
  (error: unknown) => {
    pino().fatal({ err: error }, "could not start");
    process.exit(1);
  },
);
