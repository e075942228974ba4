import type { FastifyInstance } from "fastify";

/** Liveness for the platform's health check: 200 with an empty body, and no database access, so a database
 * outage never makes the platform restart healthy instances. */
export async function healthCheckRoutes(app: FastifyInstance): Promise<void> {
  app.get("/health_check", async (_request, reply) => {
    reply.code(200).send();
  });
}
