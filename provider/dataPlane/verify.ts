import { messageOf, PortableError } from "../http/errors";
import { dataPlaneRequest, envMs } from "./client";
import { isPermissionError } from "./redis";
import { proveRedisUrl } from "./redisProtocol";

/** The data planes a freshly issued credential is proven against. */
export type VerifiedProduct = "redis" | "vector" | "search" | "qstash";

/** The credentials a rotation is about to hand out, as far as proving them needs. */
export interface HandOut {
  /** The product host. */
  endpoint: string;
  token: string;
  readOnlyToken?: string;
  /** Redis: proven with the user, host and port of `redisUrl`. */
  password?: string;
  redisUrl?: string;
}

/**
 * Per product: what each token is called in messages, and the request that
 * proves it. The read-only tokens are proven with a read: Redis `DBSIZE` (a
 * `@read` command that needs no key), Vector/Search `GET /info`, QStash a list
 * of schedules (Upstash: the read-only token reads "logs, messages, schedules").
 */
const PROOFS: Record<
  VerifiedProduct,
  { token: string; tokenPath: string; readOnly: string; readPath: string }
> = {
  redis: {
    token: "REST token",
    tokenPath: "/ping",
    readOnly: "read-only REST token",
    readPath: "/dbsize",
  },
  vector: { token: "token", tokenPath: "/info", readOnly: "read-only token", readPath: "/info" },
  search: { token: "token", tokenPath: "/info", readOnly: "read-only token", readPath: "/info" },
  qstash: {
    token: "QStash token",
    tokenPath: "/v2/keys",
    readOnly: "read-only QStash token",
    readPath: "/v2/schedules",
  },
};

/** Several credentials of one rotation failed their proofs; each message says which and why. */
export class CredentialProofError extends PortableError {
  constructor(failures: unknown[]) {
    super(
      `${failures.length} of the new credentials failed their proofs: ${failures
        .map((failure, i) => `(${i + 1}) ${messageOf(failure) ?? "unknown error"}`)
        .join(" ")}`,
    );
    this.name = "CredentialProofError";
  }
}

/**
 * One request with `token` itself. A 401/403 is repeated within the budget,
 * since a fresh credential may take a moment to reach every node; with
 * `authenticatedIfDenied`, a Redis NOPERM answer proves the token too (it
 * authenticated, the user may only lack the command).
 */
async function proveToken(
  host: string,
  token: string,
  path: string,
  credential: string,
  authenticatedIfDenied: boolean,
  budgetMs: number,
): Promise<void> {
  try {
    await dataPlaneRequest({
      method: "GET",
      host,
      path,
      token,
      operation: `prove ${credential} (GET ${path})`,
      retryUnauthorized: true,
      budgetMs,
    });
  } catch (error) {
    if (authenticatedIfDenied && isPermissionError(error)) return;
    throw error;
  }
}

/**
 * Proves every credential in `handOut` with the credential itself, all at
 * once (the run waits for the slowest, not for their sum): the token (Redis
 * `PING` over REST, Vector/Search `GET /info`, QStash `GET /v2/keys`), the
 * read-only token with a read (see {@link PROOFS}), and a Redis password with
 * `AUTH` and `PING` over the Redis protocol at the host and port of `redisUrl`.
 * Each is retried within `UPSTASH_VERIFY_MAX_MS` (default 5 s). Throws the
 * failure of the one that failed, or a `CredentialProofError` naming several.
 */
export async function proveHandOut(
  product: VerifiedProduct,
  handOut: HandOut,
  what: string,
): Promise<void> {
  const budgetMs = envMs("UPSTASH_VERIFY_MAX_MS", 5000);
  const { token, tokenPath, readOnly, readPath } = PROOFS[product];
  // Settled before any proof starts, so that no proof is left running unwatched.
  const redisUrls = passwordUrls(handOut, what);
  const proofs = [
    proveToken(
      handOut.endpoint,
      handOut.token,
      tokenPath,
      `the new ${token} of ${what}`,
      product === "redis",
      budgetMs,
    ),
  ];
  if (handOut.readOnlyToken !== undefined) {
    proofs.push(
      proveToken(
        handOut.endpoint,
        handOut.readOnlyToken,
        readPath,
        `the new ${readOnly} of ${what}`,
        false,
        budgetMs,
      ),
    );
  }
  const password = `prove the new password of ${what} (AUTH and PING over the Redis protocol)`;
  for (const url of redisUrls) proofs.push(proveRedisUrl(url, password, budgetMs));
  const failures = (await Promise.allSettled(proofs)).flatMap((settled) =>
    settled.status === "rejected" ? [settled.reason as unknown] : [],
  );
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new CredentialProofError(failures);
}

/**
 * The Redis URLs whose credentials prove the password: `redisUrl` itself, and
 * should `password` ever differ from the one in it (the outputs build one from
 * the other), the same URL with `password` too.
 */
function passwordUrls(handOut: HandOut, what: string): string[] {
  if (handOut.redisUrl === undefined) {
    if (handOut.password === undefined) return [];
    throw new PortableError(
      `Cannot prove the new password of ${what}: no Redis URL tells where to connect.`,
    );
  }
  let url: URL;
  try {
    url = new URL(handOut.redisUrl);
  } catch {
    return [handOut.redisUrl]; // its proof fails with a message that does not repeat it
  }
  if (handOut.password === undefined || decodeURIComponent(url.password) === handOut.password) {
    return [handOut.redisUrl];
  }
  url.password = encodeURIComponent(handOut.password);
  return [handOut.redisUrl, url.toString()];
}
