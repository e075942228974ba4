import type { FastifyInstance } from "fastify";

export const HEALTH_CHECK_PATH = "/health_check";

/** Liveness for the platform's health check: 200 with an empty body, and no database access, so a database
 * outage never makes the platform restart healthy instances. */
export async function healthCheckRoutes(app: FastifyInstance): Promise<void> {
  // Not an async handler: it has nothing to wait for, and a promise per poll is CPU for nothing.
  app.get(HEALTH_CHECK_PATH, (_request, reply) => {
    reply.code(200).send();
  });
}
