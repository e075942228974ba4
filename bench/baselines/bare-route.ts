// Baseline for POST /subscriptions: the same Fastify version and the same INSERT through the app's own pool
// (app/src/database.ts createDatabase, app/src/subscriptions.ts subscribe), with the form read by URLSearchParams and
// nothing else: no validation, no logging, no hooks. What the app's route costs beyond this is what the app adds.
// With `--log`, a reference rather than a baseline: the same route writing the app's own request line (its logger
// options, destination and one-line-per-request controller), so the bench can show what that line alone costs.
import Fastify from "fastify";
import { createDatabase } from "../../app/src/database";
import { loggerOptions, serverLogDestination } from "../../app/src/logger";
import { RequestLog, requestId } from "../../app/src/request-log";
import { HEALTH_CHECK_PATH } from "../../app/src/routes/health-check";
import { subscribe } from "../../app/src/subscriptions";
import { baselineSettings, silent } from "./settings";

const settings = baselineSettings();
const db = createDatabase(settings.database, silent);
const app = process.argv.includes("--log")
  ? Fastify({
      logger: { ...loggerOptions(settings), stream: serverLogDestination() },
      logController: new RequestLog(new Set([HEALTH_CHECK_PATH])),
      genReqId: (request) => requestId(request.headers["x-request-id"]),
    })
  : Fastify();
app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
  done(null, Object.fromEntries(new URLSearchParams(body as string)));
});
app.get(HEALTH_CHECK_PATH, (_request, reply) => {
  reply.code(200).send();
});
app.post<{ Body: { name: string; email: string } }>("/subscriptions", async (request, reply) => {
  // The same statement as the app's, with the address as canonical as a bare route would make it: no parsing.
  const email = { address: request.body.email, canonical: request.body.email.toLowerCase() };
  await subscribe(db, { name: request.body.name, email });
  reply.code(200).send();
});
void app.listen({ port: settings.application.port, host: settings.application.host });
process.once("SIGTERM", () => void app.close().then(() => db.close().then(() => process.exit(0))));
