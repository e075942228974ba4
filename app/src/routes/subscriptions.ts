import type { FastifyInstance } from "fastify";
import isEmail from "validator/lib/isEmail.js";
import { z } from "zod";
import type { Database } from "../database";
import { subscribe } from "../subscriptions";

/** Characters a name may not contain (Zero To Production, chapter 6): they'd help an injection somewhere downstream. */
const FORBIDDEN_IN_NAME = /[/()"<>\\{}]/;
export const MAX_NAME_GRAPHEMES = 256;

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });
/** What a person sees as characters: "é" written as e + U+0301, or a family emoji, counts as one. */
function graphemeCount(text: string): number {
  let count = 0;
  for (const _ of graphemes.segment(text)) count++;
  return count;
}

/** The form, as the route declares it. Issues are checked in this order, and the first one names the field. */
export const SubscriptionForm = z.preprocess(
  (body) => body ?? {},
  z.object({
    name: z
      .string({ error: "name is required" })
      .trim()
      .min(1, { error: "name must not be empty" })
      .refine((name) => graphemeCount(name) <= MAX_NAME_GRAPHEMES, {
        error: `name must be at most ${MAX_NAME_GRAPHEMES} characters`,
      })
      .refine((name) => !FORBIDDEN_IN_NAME.test(name), {
        error: 'name must not contain any of / ( ) " < > \\ { }',
      }),
    email: z
      .string({ error: "email is required" })
      .refine((email) => isEmail(email), { error: "email must be a valid email address" }),
  }),
);
export type SubscriptionForm = z.output<typeof SubscriptionForm>;

export async function subscriptionRoutes(app: FastifyInstance, options: { db: Database }): Promise<void> {
  app.post<{ Body: SubscriptionForm }>(
    "/subscriptions",
    { schema: { body: SubscriptionForm } },
    async (request, reply) => {
      await subscribe(options.db, request.body);
      // The same answer whether the address is new or already subscribed.
      reply.code(200).send();
    },
  );
}
