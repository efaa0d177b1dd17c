import { z } from "zod";
import type { UpstashClient } from "../http/client";
import {
  indexRestHost,
  parseShape,
  resetThenReadBack,
  unlessGone,
  type IssuedCredentials,
  type SearchTarget,
  type TargetDriver,
  type VectorTarget,
} from "./target";

/** What differs between the Vector and Search APIs, which otherwise behave alike. */
export interface RestIndexApi {
  product: "vector" | "search";
  /** e.g. "Vector index", for messages. */
  label: string;
  resetPath(id: string): string;
  getPath(id: string): string;
  /** The SDK's variable prefix, e.g. `UPSTASH_VECTOR`. */
  envPrefix: string;
}

function indexSchema() {
  return z.object({
    id: z.string().min(1),
    endpoint: z.string().min(1),
    token: z.string().min(1),
    read_only_token: z.string().min(1).optional(),
  });
}

/**
 * Vector and Search indexes: the reset answers a bare "OK", so the new
 * `token`/`read_only_token` always come from a read-back of the index.
 */
export function restIndexDriver<T extends VectorTarget | SearchTarget>(
  api: RestIndexApi,
): TargetDriver<T> {
  const describeTarget = (target: T): string => `${api.label} ${target.indexId}`;

  const getIndex = (client: UpstashClient, id: string): Promise<IssuedCredentials> =>
    client.call({
      method: "GET",
      path: api.getPath(encodeURIComponent(id)),
      operation: `read ${api.label}`,
      targetId: id,
      parse: (body) => {
        const index = parseShape(indexSchema(), body);
        const endpoint = indexRestHost(index.endpoint, api.product);
        const restUrl = `https://${endpoint}`;
        return {
          resourceId: index.id,
          token: index.token,
          readOnlyToken: index.read_only_token,
          restUrl,
          endpoint,
          env: {
            [`${api.envPrefix}_REST_URL`]: restUrl,
            [`${api.envPrefix}_REST_TOKEN`]: index.token,
          },
        };
      },
    });

  return {
    describe: describeTarget,
    rotate: (client, target) =>
      resetThenReadBack(
        describeTarget(target),
        async () => {
          await client.call({
            method: "POST",
            path: api.resetPath(encodeURIComponent(target.indexId)),
            operation: `reset passwords of ${api.label}`,
            targetId: target.indexId,
            parse: () => undefined,
          });
          return undefined;
        },
        () => getIndex(client, target.indexId),
      ),
    read: (client, target) => unlessGone(() => getIndex(client, target.indexId)),
  };
}
