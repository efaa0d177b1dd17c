import { randomBytes } from "crypto";
import type { Answer } from "./routes";
import {
  aclUserFor,
  authenticate,
  base64Reply,
  liveTokenHashes,
  newRedisPlane,
  runCommand,
  sha256,
  type RedisPlane,
  type RedisReply,
  wantsBase64,
} from "./redisRest";
import type { EmulatorData, QStashUser, RedisDatabase, RestIndex, TargetKind } from "./state";

/**
 * The products' data planes, served under `/data-plane/<host>/...`: what a
 * program would send to `https://<host><path>` goes to
 * `<emulator>/data-plane/<host><path>`. Requests carry `Authorization: Bearer
 * <token>` (never the Developer API's Basic auth).
 *
 * - Redis REST, host = the database `endpoint`: `POST /` with a JSON command
 *   array, `POST /pipeline` with an array of them, or the path form
 *   (`GET /get/key`), base64 strings under `Upstash-Encoding: base64`; see
 *   redisRest.ts for the commands and ACL.
 * - Vector and Search, host = `<endpoint>-vector.upstash.io` /
 *   `<endpoint>-search.upstash.io`: `GET /info`; Vector also dense
 *   `POST /upsert[/ns]` and `POST /query[/ns]`.
 * - QStash, host = `qstash.upstash.io` (or `qstash-eu-central-1.upstash.io`)
 *   for eu-central-1, else `qstash-<region>.upstash.io`: `GET /v2/keys`,
 *   `POST /v2/keys/rotate`, and empty schedule, URL group and queue lists.
 *   Users sharing a host are told apart by token.
 */

/** Where the emulator serves the data planes: the override the provider prefixes hosts with. */
export const dataPlaneUrl = (emulatorUrl: string): string =>
  `${emulatorUrl.replace(/\/+$/, "")}/data-plane`;

/** The variables that point the provider at an emulator: its Developer API and its data planes. */
export const emulatorEnvironment = (
  emulatorUrl: string,
): { UPSTASH_API_URL: string; UPSTASH_DATA_PLANE_URL: string } => ({
  UPSTASH_API_URL: emulatorUrl,
  UPSTASH_DATA_PLANE_URL: dataPlaneUrl(emulatorUrl),
});

const qualified = (endpoint: string, suffix: string): string =>
  (endpoint.includes(".") ? endpoint : `${endpoint}${suffix}`).toLowerCase();

/** The REST host of a Redis database (its `endpoint`). */
export const redisHost = (db: RedisDatabase): string => qualified(db.endpoint, ".upstash.io");

/** The REST host of a Vector or Search index: `<endpoint>-<kind>.upstash.io` for a bare endpoint. */
export const indexHost = (kind: "vector" | "search", index: RestIndex): string =>
  qualified(index.endpoint, `-${kind}.upstash.io`);

/** The QStash hosts of a region; the first is the one the SDK uses by default. */
export const qstashHosts = (region: string): string[] =>
  region === "eu-central-1"
    ? ["qstash.upstash.io", "qstash-eu-central-1.upstash.io"]
    : [`qstash-${region}.upstash.io`];

export const qstashHost = (user: QStashUser): string => qstashHosts(user.region)[0];

/** QStash's list reads (`schedules.list()`, `urlGroups.list()`, `queue().list()`). */
const EMPTY_QSTASH_LISTS = ["/v2/schedules", "/v2/topics", "/v2/queues"];

/** The QStash regions (OpenAPI `QStashUser.region`), whose hosts always answer. */
const QSTASH_REGIONS = ["eu-central-1", "us-east-1"];

/** Every host a target's data plane answers on. */
export function targetHosts(
  kind: TargetKind,
  target: RedisDatabase | RestIndex | QStashUser,
): string[] {
  if (kind === "redis") return [redisHost(target as RedisDatabase)];
  if (kind === "qstash") return qstashHosts((target as QStashUser).region);
  return [indexHost(kind, target as RestIndex)];
}

/** A data-plane URL for one host: `${dataPlaneUrl(emulatorUrl)}/${host}`. */
export const dataPlaneHostUrl = (emulatorUrl: string, host: string): string =>
  `${dataPlaneUrl(emulatorUrl)}/${host}`;

/** Per-target switches for tests: a data plane that refuses, or is slow to learn new tokens. */
export interface DataPlaneSwitch {
  /**
   * Refuse every request to this target, valid token or not: `unauthorized`
   * (the product's 401), `unavailable` (503) or `drop` (the connection is
   * destroyed unanswered, like a runner without egress).
   */
  reject?: "unauthorized" | "unavailable" | "drop";
  /**
   * Propagation delay: each token that did not authenticate when the switch
   * was set gets 401 on its first N otherwise valid requests.
   */
  freshTokenRejections?: number;
  /**
   * Refuse these credentials of the target as wrong ones, named as the
   * Developer API names them (`password`, `read_only_rest_token`,
   * `read_only_token`, …), whatever values they hold: a reset's new ones too.
   */
  refuse?: string[];
}

interface SwitchState extends DataPlaneSwitch {
  /** SHA-256 of the tokens that were valid when the switch was set. */
  settled: Set<string>;
  /** Requests refused so far, per SHA-256 of a fresh token. */
  refused: Map<string, number>;
}

export interface SigningKeys {
  current: string;
  next: string;
}

/** A QStash user's data-plane state (the Developer API's user JSON has no signing keys). */
export interface QStashPlane {
  signingKeys: SigningKeys;
}

/** A data-plane request as the server hands it over. */
export interface DataPlaneRequest {
  method: string;
  /** The full emulator path (`/data-plane/<host>/...`), still percent-encoded. */
  path: string;
  query: URLSearchParams;
  authorization?: string;
  /** The `Upstash-Encoding` header (Redis REST answers base64 strings when it says so). */
  encoding?: string | string[];
  body: string;
}

/** What the control API shows of one target's data plane. */
export interface DataPlaneView {
  type: TargetKind;
  id: string;
  hosts: string[];
  switch: DataPlaneSwitch;
  /** Redis only. */
  aclEnabled?: boolean;
  aclUsers?: string[];
  /** QStash only. */
  signingKeys?: SigningKeys;
}

type Target = RedisDatabase | RestIndex | QStashUser;

const json = (status: number, body: unknown): Answer => ({ status, body });
const UNAVAILABLE = json(503, { error: "Service Unavailable" });
const DROP: Answer = { status: 0, body: "", drop: true };
const notEmulated = (method: string, path: string): Answer =>
  json(501, { error: `${method} ${path} is not emulated on this data plane` });
const methodNotAllowed = (allowed: string): Answer => ({
  status: 405,
  body: { error: "Method Not Allowed" },
  headers: { Allow: allowed },
});

/**
 * Vector's error body: the message and, again, the status. Only the 401 and
 * the dimension 422 texts are documented; the others are the emulator's own.
 */
const vectorError = (status: number, error: string): Answer => json(status, { error, status });

/**
 * The 401 bodies. Redis's and Vector's are documented; Search runs on Vector,
 * so it is assumed to answer the same; QStash's text is assumed.
 */
const UNAUTHORIZED: Record<TargetKind, Answer> = {
  redis: json(401, { error: "WRONGPASS invalid or missing auth token" }),
  vector: vectorError(401, "Unauthorized: Invalid auth token"),
  search: vectorError(401, "Unauthorized: Invalid auth token"),
  qstash: json(401, { error: "Unauthorized: invalid or missing token" }),
};

const signingKey = (): string => {
  const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  return `sig_${[...randomBytes(28)].map((byte) => alphabet[byte % alphabet.length]).join("")}`;
};

const bearer = (header: string | undefined): string => {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  return match ? match[1].trim() : "";
};

/**
 * The data planes of one emulator. Each target's state lives with the target
 * object, so a reset of the emulator (new targets) starts them afresh, and a
 * Developer API credential reset (same object, new tokens) keeps them.
 */
export class DataPlane {
  private readonly redisPlanes = new WeakMap<RedisDatabase, RedisPlane>();
  private readonly qstashPlanes = new WeakMap<QStashUser, QStashPlane>();
  private readonly vectorPlanes = new WeakMap<RestIndex, VectorPlane>();
  private readonly switches = new WeakMap<Target, SwitchState>();

  /** The key store and ACL of a database. */
  redis(db: RedisDatabase): RedisPlane {
    let plane = this.redisPlanes.get(db);
    if (!plane) {
      plane = newRedisPlane();
      this.redisPlanes.set(db, plane);
    }
    return plane;
  }

  /** The vectors of a Vector index, by namespace. */
  vectors(index: RestIndex): VectorPlane {
    let plane = this.vectorPlanes.get(index);
    if (!plane) {
      plane = new Map([["", new Map()]]);
      this.vectorPlanes.set(index, plane);
    }
    return plane;
  }

  /** The signing keys of a QStash user. */
  qstash(user: QStashUser): QStashPlane {
    let plane = this.qstashPlanes.get(user);
    if (!plane) {
      plane = { signingKeys: { current: signingKey(), next: signingKey() } };
      this.qstashPlanes.set(user, plane);
    }
    return plane;
  }

  /** The switch of a target (empty when none is set). */
  switchOf(target: Target): DataPlaneSwitch {
    const state = this.switches.get(target);
    if (!state) return {};
    const { reject, freshTokenRejections, refuse } = state;
    return {
      ...(reject ? { reject } : {}),
      ...(freshTokenRejections ? { freshTokenRejections } : {}),
      ...(refuse?.length ? { refuse } : {}),
    };
  }

  /** Sets (replacing) or, with an empty switch, clears a target's switch. */
  setSwitch(kind: TargetKind, target: Target, value: DataPlaneSwitch): void {
    if (!value.reject && !value.freshTokenRejections && !value.refuse?.length) {
      this.switches.delete(target);
      return;
    }
    this.switches.set(target, {
      ...value,
      settled: this.liveHashes(kind, target),
      refused: new Map(),
    });
  }

  /** Whether `value` is a live ACL credential (password or RESTTOKEN) of some database. */
  isAclCredential(data: EmulatorData, value: string): boolean {
    for (const db of data.redis.values()) {
      const plane = this.redisPlanes.get(db);
      if (plane && aclUserFor(db, plane, value)) return true;
    }
    return false;
  }

  /** Every target's hosts and switch, for the control API. */
  describe(data: EmulatorData): DataPlaneView[] {
    const views: DataPlaneView[] = [];
    for (const db of data.redis.values()) {
      views.push({
        ...this.view("redis", db.database_id, db),
        aclEnabled: db.db_acl_enabled !== "false",
        aclUsers: [...(this.redisPlanes.get(db)?.users.keys() ?? [])].sort(),
      });
    }
    for (const kind of ["vector", "search"] as const) {
      for (const index of data[kind].values()) views.push(this.view(kind, index.id, index));
    }
    for (const user of data.qstash.values()) {
      views.push({
        ...this.view("qstash", user.id, user),
        signingKeys: this.qstash(user).signingKeys,
      });
    }
    return views;
  }

  private view(type: TargetKind, id: string, target: Target): DataPlaneView {
    return { type, id, hosts: targetHosts(type, target), switch: this.switchOf(target) };
  }

  private liveHashes(kind: TargetKind, target: Target): Set<string> {
    if (kind === "redis") {
      const db = target as RedisDatabase;
      return new Set([...liveTokenHashes(db, this.redis(db)), sha256(db.password)]);
    }
    const { token, read_only_token } = target as RestIndex | QStashUser;
    return new Set([sha256(token), sha256(read_only_token)]);
  }

  /** Answers one `/data-plane/<host>/...` request. */
  handle(data: EmulatorData, request: DataPlaneRequest): Answer {
    const match = /^\/data-plane\/([^/]+)(\/.*)?$/.exec(request.path);
    let host: string;
    try {
      host = decodeURIComponent(match?.[1] ?? "").toLowerCase();
    } catch {
      return json(400, { error: "malformed path: invalid percent-encoding" });
    }
    const rest = match?.[2] ?? "/";
    const sent = bearer(request.authorization);
    for (const db of data.redis.values()) {
      if (redisHost(db) === host) return this.redisRequest(db, rest, request, sent);
    }
    for (const kind of ["vector", "search"] as const) {
      for (const index of data[kind].values()) {
        if (indexHost(kind, index) === host)
          return this.indexRequest(kind, index, rest, request, sent);
      }
    }
    // QStash's regional hosts exist whether or not a user of the account is there.
    const users = [...data.qstash.values()].filter((user) =>
      qstashHosts(user.region).includes(host),
    );
    if (users.length > 0 || QSTASH_REGIONS.some((region) => qstashHosts(region).includes(host))) {
      return this.qstashRequest(users, rest, request, sent);
    }
    return json(404, { error: `unknown data-plane host "${host}"` });
  }

  /** A `reject` switch's answer, if one is set. */
  private rejected(kind: TargetKind, target: Target): Answer | undefined {
    const reject = this.switches.get(target)?.reject;
    if (!reject) return undefined;
    const answer =
      reject === "drop" ? DROP : reject === "unavailable" ? UNAVAILABLE : UNAUTHORIZED[kind];
    return { ...answer, switched: true };
  }

  /** Whether a `refuse` switch makes `sent`, a current credential of `target`, a wrong one. */
  refuses(target: Target, sent: string): boolean {
    const fields = this.switches.get(target)?.refuse ?? [];
    const values = target as unknown as Record<string, unknown>;
    return sent !== "" && fields.some((field) => values[field] === sent);
  }

  /**
   * 401 while a fresh token is still "propagating" (see `freshTokenRejections`),
   * counted per `channel`: the Redis protocol reaches other nodes than REST does.
   */
  propagating(kind: TargetKind, target: Target, sent: string, channel = ""): Answer | undefined {
    const state = this.switches.get(target);
    if (!state?.freshTokenRejections) return undefined;
    const hash = sha256(sent);
    if (state.settled.has(hash)) return undefined;
    const refused = state.refused.get(`${channel}${hash}`) ?? 0;
    if (refused >= state.freshTokenRejections) return undefined;
    state.refused.set(`${channel}${hash}`, refused + 1);
    return { ...UNAUTHORIZED[kind], switched: true };
  }

  private redisRequest(
    db: RedisDatabase,
    rest: string,
    request: DataPlaneRequest,
    sent: string,
  ): Answer {
    const refused = this.rejected("redis", db);
    if (refused) return refused;
    if (request.method !== "GET" && request.method !== "POST") return methodNotAllowed("GET, POST");
    const plane = this.redis(db);
    const principal = authenticate(db, plane, sent);
    if (!principal) return UNAUTHORIZED.redis;
    if (this.refuses(db, sent)) return { ...UNAUTHORIZED.redis, switched: true };
    const late = this.propagating("redis", db, sent);
    if (late) return late;
    const parseError = json(400, { error: "ERR failed to parse command" });
    const encode = wantsBase64(request.encoding)
      ? base64Reply
      : (answer: RedisReply): RedisReply => answer;
    const reply = (answer: RedisReply): Answer =>
      json("error" in answer ? 400 : 200, encode(answer));
    if (rest === "/" || rest === "/pipeline") {
      if (request.method !== "POST") return parseError;
      let parsed: unknown;
      try {
        parsed = JSON.parse(request.body);
      } catch {
        return parseError;
      }
      if (rest === "/") {
        const args = commandArgs(parsed);
        return args ? reply(runCommand(db, plane, principal, args)) : parseError;
      }
      if (!Array.isArray(parsed) || parsed.length === 0) return parseError;
      const commands = parsed.map(commandArgs);
      if (commands.some((args) => !args)) return parseError;
      return json(
        200,
        commands.map((args) => encode(runCommand(db, plane, principal, args as string[]))),
      );
    }
    if (rest === "/multi-exec") return notEmulated(request.method, rest);
    let args: string[];
    try {
      args = rest
        .slice(1)
        .split("/")
        .map((segment) => decodeURIComponent(segment));
    } catch {
      return parseError;
    }
    if (request.method === "POST" && request.body !== "") args.push(request.body);
    return reply(runCommand(db, plane, principal, args));
  }

  private indexRequest(
    kind: "vector" | "search",
    index: RestIndex,
    rest: string,
    request: DataPlaneRequest,
    sent: string,
  ): Answer {
    const refused = this.rejected(kind, index);
    if (refused) return refused;
    if (sent === "" || (sent !== index.token && sent !== index.read_only_token)) {
      return UNAUTHORIZED[kind];
    }
    if (this.refuses(index, sent)) return { ...UNAUTHORIZED[kind], switched: true };
    const late = this.propagating(kind, index, sent);
    if (late) return late;
    const vectors = kind === "vector" ? this.vectors(index) : undefined;
    if (rest === "/info") {
      if (request.method !== "GET" && request.method !== "POST") {
        return methodNotAllowed("GET, POST");
      }
      return json(200, { result: indexInfo(kind, index, vectors) });
    }
    const route = /^\/(upsert|query)(?:\/([^/]+))?$/.exec(rest);
    if (!vectors || !route) return notEmulated(request.method, rest);
    if (request.method !== "POST") return methodNotAllowed("POST");
    let namespace: string;
    let body: unknown;
    try {
      namespace = decodeURIComponent(route[2] ?? "");
      body = JSON.parse(request.body);
    } catch {
      return vectorError(400, "Invalid request body");
    }
    if (route[1] === "query") return vectorQuery(index, vectors, namespace, body);
    // The read-only token "can only read"; the status and wording of the refusal are assumed.
    if (sent !== index.token) return vectorError(403, "Forbidden: /upsert is not allowed");
    return vectorUpsert(index, vectors, namespace, body);
  }

  private qstashRequest(
    users: QStashUser[],
    rest: string,
    request: DataPlaneRequest,
    bearerToken: string,
  ): Answer {
    // QStash also takes the token as `?qstash_token=` (its OpenAPI `bearerAuthQuery`).
    const sent = bearerToken || (request.query.get("qstash_token") ?? "");
    const user =
      sent === "" ? undefined : users.find((u) => u.token === sent || u.read_only_token === sent);
    if (!user) return UNAUTHORIZED.qstash;
    const refused = this.rejected("qstash", user);
    if (refused) return refused;
    if (this.refuses(user, sent)) return { ...UNAUTHORIZED.qstash, switched: true };
    const late = this.propagating("qstash", user, sent);
    if (late) return late;
    const plane = this.qstash(user);
    if (rest === "/v2/keys") {
      if (request.method !== "GET") return methodNotAllowed("GET");
      return json(200, { ...plane.signingKeys });
    }
    if (rest === "/v2/keys/rotate") {
      if (request.method !== "POST") return methodNotAllowed("POST");
      // The read-only token "cannot ... modify existing resources"; the status is assumed.
      if (sent !== user.token) {
        return json(403, { error: "the read-only token cannot rotate signing keys" });
      }
      plane.signingKeys = { current: plane.signingKeys.next, next: signingKey() };
      return json(200, { ...plane.signingKeys });
    }
    // Nothing is ever published here, so a user has no schedules, URL groups or
    // queues, and its lists are empty: enough for a client's read to prove its token.
    if (request.method === "GET" && EMPTY_QSTASH_LISTS.includes(rest)) return json(200, []);
    return notEmulated(request.method, rest);
  }
}

/** A REST command: a non-empty JSON array of strings, numbers or booleans. */
function commandArgs(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const args: string[] = [];
  for (const item of value) {
    if (!["string", "number", "boolean"].includes(typeof item)) return undefined;
    args.push(String(item));
  }
  return args;
}

const dimensionOf = (index: RestIndex): number =>
  typeof index.dimension_count === "number" ? index.dimension_count : 1024;
const similarityOf = (index: RestIndex): string =>
  typeof index.similarity_function === "string" ? index.similarity_function : "COSINE";

/**
 * Vector's documented `GET /info` shape (`{"result": {...}}`), counting what
 * was upserted (a Search index holds nothing). Upstash Search's SDK reads the
 * same Vector info from its host and maps it, so Search answers the same
 * shape; its dimension and index type are assumed. `indexSize` (bytes on
 * Upstash's disks) is not modelled and stays 0.
 */
function indexInfo(
  kind: "vector" | "search",
  index: RestIndex,
  vectors: VectorPlane | undefined,
): Record<string, unknown> {
  const dimension = dimensionOf(index);
  const similarityFunction = similarityOf(index);
  const indexType =
    typeof index.index_type === "string"
      ? index.index_type
      : kind === "search"
        ? "HYBRID"
        : "DENSE";
  const namespaces: Record<string, { vectorCount: number; pendingVectorCount: number }> = {};
  let vectorCount = 0;
  for (const [name, stored] of vectors ?? new Map([["", new Map()]])) {
    namespaces[name] = { vectorCount: stored.size, pendingVectorCount: 0 };
    vectorCount += stored.size;
  }
  return {
    vectorCount,
    pendingVectorCount: 0,
    indexSize: 0,
    dimension,
    similarityFunction,
    indexType,
    namespaces,
  };
}

/** One vector of a Vector index, as upserted. */
interface StoredVector {
  id: string;
  vector: number[];
  metadata?: Record<string, unknown>;
  data?: string;
}

/** A Vector index's namespaces ("" is the default one), each by vector id. */
export type VectorPlane = Map<string, Map<string, StoredVector>>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A dense vector of the index's dimension, or the error Vector answers (the 422 is documented). */
function denseVector(index: RestIndex, value: unknown): number[] | Answer {
  // Sparse and hybrid indexes, and embedding (`data`) routes, are not emulated.
  if (!Array.isArray(value) || !value.every((x) => typeof x === "number" && Number.isFinite(x))) {
    return vectorError(422, "Invalid request: dense vector is required");
  }
  const expected = dimensionOf(index);
  if (value.length !== expected) {
    return vectorError(422, `Invalid vector dimension: ${value.length}, expected: ${expected}`);
  }
  return value as number[];
}

/** `POST /upsert[/namespace]`: one vector or an array of them; answers "Success". */
function vectorUpsert(
  index: RestIndex,
  vectors: VectorPlane,
  namespace: string,
  body: unknown,
): Answer {
  const items = Array.isArray(body) ? body : [body];
  const parsed: StoredVector[] = [];
  for (const item of items) {
    if (!isRecord(item) || !["string", "number"].includes(typeof item.id)) {
      return vectorError(422, "Invalid request: id is required");
    }
    const vector = denseVector(index, item.vector);
    if (!Array.isArray(vector)) return vector;
    const { metadata, data } = item;
    if (metadata !== undefined && !isRecord(metadata)) {
      return vectorError(422, "Invalid request: metadata must be an object");
    }
    if (data !== undefined && typeof data !== "string") {
      return vectorError(422, "Invalid request: data must be a string");
    }
    parsed.push({
      id: String(item.id),
      vector: [...vector],
      ...(metadata ? { metadata } : {}),
      ...(data !== undefined ? { data } : {}),
    });
  }
  // All or nothing, so a bad item in a batch leaves the namespace as it was.
  let stored = vectors.get(namespace);
  if (!stored) {
    stored = new Map();
    vectors.set(namespace, stored);
  }
  for (const vector of parsed) stored.set(vector.id, vector);
  return json(200, { result: "Success" });
}

/** Vector's documented normalized score: 1 is the most similar, 0 the least. */
function similarity(kind: string, a: number[], b: number[]): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  let squared = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
    squared += (a[i] - b[i]) ** 2;
  }
  if (kind === "EUCLIDEAN") return 1 / (1 + squared);
  if (kind === "DOT_PRODUCT") return (1 + dot) / 2;
  // A zero vector has no direction; it scores as orthogonal rather than NaN.
  const norms = Math.sqrt(aa * bb);
  return (1 + (norms === 0 ? 0 : dot / norms)) / 2;
}

/**
 * `POST /query[/namespace]`: the topK nearest vectors by the index's
 * similarity function, exactly (Upstash's is approximate). A batch (an array)
 * answers one list per query, except that a batch of one answers a flat list,
 * as `@upstash/vector`'s `queryMany` expects of Upstash.
 */
function vectorQuery(
  index: RestIndex,
  vectors: VectorPlane,
  namespace: string,
  body: unknown,
): Answer {
  const queries = Array.isArray(body) ? body : [body];
  const results: unknown[] = [];
  for (const query of queries) {
    if (!isRecord(query)) return vectorError(422, "Invalid request: dense vector is required");
    const vector = denseVector(index, query.vector);
    if (!Array.isArray(vector)) return vector;
    if (typeof query.filter === "string" && query.filter.trim() !== "") {
      return notEmulated("POST", "/query with a metadata filter");
    }
    const topK = query.topK ?? 10;
    if (typeof topK !== "number" || !Number.isInteger(topK) || topK < 1) {
      return vectorError(422, "Invalid request: topK must be a positive integer");
    }
    const kind = similarityOf(index);
    const scored = [...(vectors.get(namespace)?.values() ?? [])]
      .map((stored) => ({ stored, score: similarity(kind, vector, stored.vector) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, topK);
    results.push(
      scored.map(({ stored, score }) => ({
        id: stored.id,
        score,
        ...(query.includeVectors === true ? { vector: stored.vector } : {}),
        ...(query.includeMetadata === true && stored.metadata ? { metadata: stored.metadata } : {}),
        ...(query.includeData === true && stored.data !== undefined ? { data: stored.data } : {}),
      })),
    );
  }
  const batch = Array.isArray(body) && body.length !== 1;
  return json(200, { result: batch ? results : results[0] });
}
