import {
  newIndexCredentials,
  newQStashCredentials,
  newRedisCredentials,
  type EmulatorData,
  type QStashUser,
  type RedisCredentialField,
  type RedisDatabase,
} from "./state";

/** What the emulator answers to one API request. */
export interface Answer {
  status: number;
  body: unknown;
  /** Plain-text body instead of JSON. */
  text?: boolean;
  /** True when the request changed credentials. */
  rotated?: boolean;
  headers?: Record<string, string>;
  /** Data plane: destroy the connection instead of answering. */
  drop?: boolean;
  /** Data plane: a per-target switch (not the target itself) shaped this answer. */
  switched?: boolean;
}

/** The parts of a request that decide its answer. */
export interface ApiRequest {
  method: string;
  /** The URL path, still percent-encoded, without the query string. */
  path: string;
  query: URLSearchParams;
  /** The `Accept` header, if any. */
  accept?: string;
  /** Serve only the older account-level QStash API. */
  legacyQStashOnly: boolean;
}

interface RouteContext {
  data: EmulatorData;
  /** The path parameters, percent-decoded. */
  params: string[];
  query: URLSearchParams;
}

interface Route {
  method: string;
  pattern: RegExp;
  /** Absent: the real API has this operation, the emulator does not (501). */
  handler?: (ctx: RouteContext) => Answer;
  /** Part of the v2 QStash API, which `legacyQStashOnly` removes. */
  qstashV2?: boolean;
}

const json = (body: unknown, rotated = false): Answer => ({ status: 200, body, rotated });
const notFound = (what: string): Answer => ({ status: 404, body: { error: `${what} not found` } });

/** Go's `http.NotFound`, which the real API answers for paths it does not serve. */
const NOT_FOUND_PAGE: Answer = { status: 404, body: "404 page not found\n", text: true };

/** `GET /redis/database/{id}?credentials=hide`: "remove credentials from the response". */
function withoutCredentials(db: RedisDatabase): Omit<RedisDatabase, RedisCredentialField> {
  const { password: _password, rest_token: _rest, read_only_rest_token: _readOnly, ...rest } = db;
  return rest;
}

/**
 * A database as `GET` shows it: with Credential Protection nothing is stored,
 * so its credentials are left out or empty; only a reset's answer has them.
 */
function shown(data: EmulatorData, db: RedisDatabase): Partial<RedisDatabase> {
  const protection = data.credentialProtection.get(db.database_id);
  if (protection === undefined) return db;
  const rest = withoutCredentials(db);
  return protection === "omit"
    ? rest
    : { ...rest, password: "", rest_token: "", read_only_rest_token: "" };
}

/** Vector (`/v2/vector/index`) and Search (`/v2/search`) share one shape; resets answer "OK". */
function restIndexRoutes(kind: "vector" | "search", base: string, name: string): Route[] {
  const one = (suffix = ""): RegExp => new RegExp(`^${base}/([^/]+)${suffix}$`);
  return [
    {
      method: "GET",
      pattern: new RegExp(`^${base}$`),
      handler: ({ data }) => json([...data[kind].values()]),
    },
    { method: "POST", pattern: new RegExp(`^${base}$`) },
    {
      method: "GET",
      pattern: one(),
      handler: ({ data, params }) => {
        const index = data[kind].get(params[0]);
        return index ? json(index) : notFound(name);
      },
    },
    {
      method: "DELETE",
      pattern: one(),
      handler: ({ data, params }) => (data[kind].delete(params[0]) ? json("OK") : notFound(name)),
    },
    {
      method: "POST",
      pattern: one("/reset-password"),
      handler: ({ data, params }) => {
        const index = data[kind].get(params[0]);
        if (!index) return notFound(name);
        Object.assign(index, newIndexCredentials());
        return json("OK", true);
      },
    },
  ];
}

function rotateQStash(user: QStashUser | undefined): Answer {
  if (!user) return notFound("qstash user");
  Object.assign(user, newQStashCredentials());
  return json(user, true);
}

/** The credential surface of the Developer API (see the OpenAPI file), plus the legacy QStash API. */
const ROUTES: Route[] = [
  {
    method: "GET",
    pattern: /^\/v2\/redis\/databases$/,
    handler: ({ data }) => json([...data.redis.values()].map((db) => shown(data, db))),
  },
  {
    method: "GET",
    pattern: /^\/v2\/redis\/database\/([^/]+)$/,
    handler: ({ data, params, query }) => {
      const db = data.redis.get(params[0]);
      if (!db) return notFound("database");
      return json(query.get("credentials") === "hide" ? withoutCredentials(db) : shown(data, db));
    },
  },
  {
    method: "DELETE",
    pattern: /^\/v2\/redis\/database\/([^/]+)$/,
    handler: ({ data, params }) =>
      data.redis.delete(params[0]) ? json("OK") : notFound("database"),
  },
  {
    method: "POST",
    pattern: /^\/v2\/redis\/reset-password\/([^/]+)$/,
    handler: ({ data, params }) => {
      const db = data.redis.get(params[0]);
      if (!db) return notFound("database");
      Object.assign(db, newRedisCredentials());
      return json(db, true);
    },
  },
  ...restIndexRoutes("vector", "/v2/vector/index", "index"),
  ...restIndexRoutes("search", "/v2/search", "search index"),
  {
    method: "GET",
    pattern: /^\/v2\/qstash\/users$/,
    qstashV2: true,
    handler: ({ data }) => json([...data.qstash.values()]),
  },
  {
    method: "GET",
    pattern: /^\/v2\/qstash\/user\/([^/]+)$/,
    qstashV2: true,
    handler: ({ data, params }) => {
      const user = data.qstash.get(params[0]);
      return user ? json(user) : notFound("qstash user");
    },
  },
  {
    method: "POST",
    pattern: /^\/v2\/qstash\/rotate-token\/([^/]+)$/,
    qstashV2: true,
    handler: ({ data, params }) => rotateQStash(data.qstash.get(params[0])),
  },
  // The older account-level QStash API (no /v2): the account's one user.
  {
    method: "GET",
    pattern: /^\/qstash\/user$/,
    handler: ({ data }) => {
      const user = data.qstash.values().next().value;
      return user ? json(user) : notFound("qstash user");
    },
  },
  {
    method: "POST",
    pattern: /^\/qstash\/user\/rotatetoken$/,
    handler: ({ data }) => rotateQStash(data.qstash.values().next().value),
  },
];

/**
 * Whether an `Accept` header lets the answer be JSON. No header, or an empty
 * one, accepts anything; otherwise one media range with q > 0 must cover
 * `application/json`.
 */
export function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === "") return true;
  return accept.split(",").some((part) => {
    const [range, ...params] = part.split(";").map((piece) => piece.trim().toLowerCase());
    const q = params.find((param) => param.startsWith("q="));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) return false;
    return range === "*/*" || range === "application/*" || range === "application/json";
  });
}

/**
 * Answers an authorized API request: 404 (Go's plain text) for a path the API
 * does not serve, 405 with `Allow` for a wrong method, 400 for a path that is
 * not validly percent-encoded, 406 when `Accept` excludes JSON, 501 for an
 * operation of the real API the emulator does not do, else the operation.
 */
export function routeRequest(data: EmulatorData, request: ApiRequest): Answer {
  const method = request.method === "HEAD" ? "GET" : request.method;
  const onPath = ROUTES.flatMap((route) => {
    if (route.qstashV2 && request.legacyQStashOnly) return [];
    const match = route.pattern.exec(request.path);
    return match ? [{ route, match }] : [];
  });
  if (onPath.length === 0) return NOT_FOUND_PAGE;
  const hit = onPath.find(({ route }) => route.method === method);
  if (!hit) {
    const allowed = onPath.flatMap(({ route }) =>
      route.method === "GET" ? ["GET", "HEAD"] : [route.method],
    );
    return {
      status: 405,
      body: "Method Not Allowed\n",
      text: true,
      headers: { Allow: allowed.join(", ") },
    };
  }
  let params: string[];
  try {
    params = hit.match.slice(1).map((param) => decodeURIComponent(param));
  } catch {
    return { status: 400, body: { error: "malformed path: invalid percent-encoding" } };
  }
  if (!acceptsJson(request.accept)) {
    return { status: 406, body: "Not Acceptable: this API answers application/json\n", text: true };
  }
  if (!hit.route.handler) {
    return {
      status: 501,
      body: { error: `${request.method} ${request.path} is not emulated` },
    };
  }
  return hit.route.handler({ data, params, query: request.query });
}
