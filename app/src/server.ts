// Entry point of the image (`node dist/server.js`): settings from ./configuration and the environment, then serve
// until SIGTERM.
import pino from "pino";
import { settingsOrExit } from "./entry";
import { loggerOptions } from "./logger";
import { serve } from "./serve";

const settings = settingsOrExit();
serve(settings).then(
  async (server) => process.exit(await server.stopped),
  (error: unknown) => {
    // The service's logger options: a library's message (a DNS error naming the host, say) may quote the password.
    pino(loggerOptions(settings)).fatal({ err: error }, "could not start");
    process.exit(1);
  },
);
