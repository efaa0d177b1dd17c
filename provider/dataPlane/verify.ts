import { dataPlaneRequest } from "./client";
import { isPermissionError } from "./redis";

/** The data planes a freshly issued credential is proven against. */
export type VerifiedProduct = "redis" | "vector" | "search" | "qstash";

function budgetMs(): number {
  const value = Number(process.env.UPSTASH_VERIFY_MAX_MS);
  return process.env.UPSTASH_VERIFY_MAX_MS && Number.isFinite(value) && value > 0 ? value : 5000;
}

/**
 * Proves `token` against the product's data plane with the token itself:
 * Redis `PING` over REST (`GET /ping`; a NOPERM answer also proves it
 * authenticated), Vector and Search `GET /info`, QStash `GET /v2/keys`. A
 * 401/403 is repeated within `UPSTASH_VERIFY_MAX_MS` (default 5 s), since a
 * fresh credential may take a moment to reach every node. Throws the last
 * `DataPlaneError`.
 */
export async function proveCredential(
  product: VerifiedProduct,
  host: string,
  token: string,
  what: string,
): Promise<void> {
  const path = product === "redis" ? "/ping" : product === "qstash" ? "/v2/keys" : "/info";
  try {
    await dataPlaneRequest({
      method: "GET",
      host,
      path,
      token,
      operation: `prove the new credential of ${what} (GET ${path})`,
      retryUnauthorized: true,
      budgetMs: budgetMs(),
    });
  } catch (error) {
    if (product === "redis" && isPermissionError(error)) return;
    throw error;
  }
}
