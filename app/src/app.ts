// The application, built without listening (fastify/demo's app.ts vs server.ts): tests drive it with `inject`,
// server.ts owns the port, the signals and the shutdown.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from "fastify";
import type { DestinationStream } from "pino";
import { createDatabase, type Database, DatabaseUnavailableError } from "./database";
import { BadRequestError, parseForm } from "./form";
import { notFoundOrMethodNotAllowed, refuseCharset, serverTimeouts } from "./http";
import { loggerOptions } from "./logger";
import { RequestLog, requestId } from "./request-log";
import { HEALTH_CHECK_PATH, healthCheckRoutes } from "./routes/health-check";
import { subscriptionRoutes } from "./routes/subscriptions";
import type { Settings } from "./settings";

/** The application as tests and server.ts see it. */
export type App = FastifyInstance;

/** The largest request body accepted; larger ones get a 400 naming the body. */
export const BODY_LIMIT_BYTES = 16 * 1024;

export interface BuildAppOptions {
  /** Where log lines go (default stdout). Tests pass a stream to read them. */
  readonly logStream?: DestinationStream;
  /** Turn request logging off (benchmarks). */
  readonly logLevel?: string;
}

export function buildApp(settings: Settings, options: BuildAppOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: {
      ...loggerOptions(settings),
      ...(options.logLevel === undefined ? {} : { level: options.logLevel }),
      ...(options.logStream === undefined ? {} : { stream: options.logStream }),
    },
    // One line per request, none for a health check that succeeds (request-log.ts says why).
    logController: new RequestLog(new Set([HEALTH_CHECK_PATH])),
    genReqId: (request) => requestId(request.headers["x-request-id"]),
    bodyLimit: BODY_LIMIT_BYTES,
    // In-flight requests finish on close; idle keep-alive connections are closed at once (the default, spelled out
    // because graceful shutdown depends on it).
    forceCloseConnections: "idle",
    ...serverTimeouts,
  });

  const db: Database = createDatabase(settings.database, app.log);
  app.addHook("onClose", async () => db.close());
  // Hooks that run on every request are callback hooks, not async ones: an async hook costs a promise and a
  // microtask each time, which a health check that does nothing else notices (`npm run bench:app`).
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });
  // Once closing, a response to a request that was already in flight ends its keep-alive connection; otherwise the
  // connection turns idle after the response, stays open, and close() waits for the client to hang up.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });

  // Forms only: no JSON or text parser, so any other content type is refused with 415, and so is a charset other than
  // UTF-8 (http.ts). The parser gets the raw bytes, not a string, to tell invalid UTF-8 from a real U+FFFD (form.ts).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "buffer", bodyLimit: BODY_LIMIT_BYTES },
    async (request: FastifyRequest, body: Buffer) => {
      refuseCharset(request.headers["content-type"]);
      return parseForm(body);
    },
  );
  // A known path with another method is a 405 (http.ts). Routes that read a body or change something add http.ts's
  // refuseContentEncoding and runWhenAnswerable hooks themselves (routes/subscriptions.ts).
  app.setNotFoundHandler(notFoundOrMethodNotAllowed(app));

  app.setErrorHandler<FastifyError | BadRequestError | DatabaseUnavailableError>((error, request, reply) => {
    if (error instanceof DatabaseUnavailableError) {
      request.log.warn({ err: error }, "database unavailable");
      return reply.code(503).header("retry-after", "2").send({ error: "unavailable", message: "try again later" });
    }
    const mistake = error instanceof BadRequestError ? error : clientError(error);
    if (mistake?.statusCode === 415) {
      // The body was not read: close the connection rather than read it to find the next request. RFC 9110 §15.5.16
      // asks a 415 for a content coding to say which codings would do.
      if (mistake.field === "content-encoding") reply.header("accept-encoding", "identity");
      return reply
        .code(415)
        .header("connection", "close")
        .send({ error: "unsupported_media_type", field: mistake.field, message: mistake.message });
    }
    if (mistake !== undefined) {
      return reply.code(400).send({ error: "invalid_request", field: mistake.field, message: mistake.message });
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send({ error: "internal", message: "internal error" });
  });

  app.register(healthCheckRoutes);
  app.register(subscriptionRoutes, { db });
  return app;
}

/**
 * Fastify's own 4xx errors named by the part of the request at fault: an unsupported media type is a 415, the rest
 * (body too large, bad content-length) a 400.
 */
function clientError(error: FastifyError | Error): BadRequestError | undefined {
  const { code, statusCode } = error as FastifyError;
  switch (code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_TYPE":
      return new BadRequestError("content-type", "content-type must be application/x-www-form-urlencoded", 415);
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new BadRequestError("body", `body must be at most ${BODY_LIMIT_BYTES} bytes`);
  }
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500)
    return new BadRequestError("body", error.message);
  return undefined;
}
