import { fullHost, parseShape, schemaOnce } from "./shapes";
import type { IssuedCredentials, SearchTarget, TargetDriver, VectorTarget } from "./target";

/** What differs between the Vector and Search APIs, which otherwise behave alike. */
export interface RestIndexApi {
  product: "vector" | "search";
  /** e.g. "Vector index", for messages. */
  label: string;
  /** Where the account's indexes are listed, e.g. `/v2/vector/index`. */
  listPath: string;
  resetPath(id: string): string;
  getPath(id: string): string;
  /** The SDK's variable prefix, e.g. `UPSTASH_VECTOR`. */
  envPrefix: string;
}

const indexSchema = schemaOnce("index", (z) =>
  z.object({
    id: z.string().min(1),
    endpoint: z.string().min(1),
    token: z.string().min(1),
    read_only_token: z.string().min(1).optional(),
  }),
);

const indexListSchema = schemaOnce("indexes", (z) => z.array(z.object({ id: z.string().min(1) })));

/**
 * Vector and Search indexes: the reset answers a bare "OK", so the new
 * `token`/`read_only_token` always come from a read-back of the index.
 */
export function restIndexDriver<T extends VectorTarget | SearchTarget>(
  api: RestIndexApi,
): TargetDriver<T> {
  const credentialsOf = (body: unknown): IssuedCredentials => {
    const index = parseShape(indexSchema(), body);
    const endpoint = fullHost(index.endpoint, `-${api.product}.upstash.io`);
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
  };

  return {
    describe: (target) => `${api.label} ${target.indexId}`,
    locate: async (_client, target) => ({ id: target.indexId.trim() }),
    get: (client, { id }) =>
      client.call({
        method: "GET",
        path: api.getPath(encodeURIComponent(id)),
        operation: `read ${api.label}`,
        targetId: id,
        idempotent: true,
        parse: credentialsOf,
      }),
    reset: async (client, { id }) => {
      await client.call({
        method: "POST",
        path: api.resetPath(encodeURIComponent(id)),
        operation: `reset passwords of ${api.label}`,
        targetId: id,
        idempotent: false,
        parse: () => undefined,
      });
      return undefined;
    },
    listIds: (client) =>
      client.call({
        method: "GET",
        path: api.listPath,
        operation: `list ${api.label}es`,
        idempotent: true,
        parse: (body) => parseShape(indexListSchema(), body).map((index) => index.id),
      }),
  };
}
