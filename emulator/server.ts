import { createServer, type IncomingMessage, type Server, type ServerResponse } from "http";
import type { AddressInfo, Server as NetServer } from "net";
import { DataPlane, type DataPlaneSwitch } from "./dataPlane";
import { RespService } from "./resp";
import { routeRequest, type Answer, type ApiRequest } from "./routes";
import {
  addTarget,
  freshData,
  type EmulatorAccount,
  type EmulatorData,
  type TargetKind,
} from "./state";

export {
  dataPlaneHostUrl,
  dataPlaneUrl,
  emulatorEnvironment,
  indexHost,
  qstashHost,
  qstashHosts,
  redisHost,
  targetHosts,
  type DataPlaneSwitch,
} from "./dataPlane";

/**
 * A switchable misbehaviour, applied to the requests it matches: Developer API
 * and data-plane requests alike (`path` is matched against the full emulator
 * path, e.g. `^/data-plane/` for every data plane).
 */
export interface Fault {
  kind:
    | "status" // answer `status` (with `retryAfter`, `body`, `contentType`) without doing the work
    | "latency" // wait `ms`, then carry on (other faults still apply)
    | "drop" // destroy the connection without answering
    | "hang" // never answer
    | "malformed-json" // do the work, then answer a truncated JSON body
    | "wrong-content-type"; // do the work, then answer with `Content-Type: text/html`
  /** Only requests with this method. */
  method?: string;
  /** Only requests whose path matches this regular expression. */
  path?: string;
  /** How many matching requests it affects; unlimited when absent. */
  times?: number;
  /** `drop`/`hang` only: do the work first, so the request takes effect unanswered. */
  afterWork?: boolean;
  /**
   * `status` only: a gateway's answer. The status goes out at once and the
   * work lands this many milliseconds later, as when a proxy gives up on an
   * origin that is still carrying the request out.
   */
  landsAfterMs?: number;
  /** Let this many matching requests through untouched first (e.g. a key revoked mid-run). */
  after?: number;
  status?: number;
  retryAfter?: string;
  body?: string;
  contentType?: string;
  ms?: number;
}

/** One API or data-plane request as the emulator saw it (bodies are never logged). */
export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  /** True when this request changed credentials. */
  rotated: boolean;
  /**
   * The fault that shaped the answer, if any; `switch` is a per-target
   * data-plane switch (`DataPlaneSwitch`).
   */
  fault?: Fault["kind"] | "rate-limit" | "unauthorized" | "switch";
  /** `data` for a data-plane request (`/data-plane/<host>/...`); absent for the Developer API. */
  plane?: "data";
  at: number;
}

export interface EmulatorOptions {
  port?: number;
  host?: string;
  account?: EmulatorAccount;
}

/** A request as routed, before the current `legacyQStashOnly` is added. */
type RequestShape = Omit<ApiRequest, "legacyQStashOnly">;

/**
 * A local stand-in for the Upstash Developer API (`api.upstash.com`): the
 * credential endpoints of Redis, Vector, Search and QStash (both QStash APIs),
 * Basic auth, per-target state, fresh random credentials on every reset, a
 * request log and switchable faults. Control endpoints live under `/_emulator/`.
 */
export class UpstashEmulator {
  data: EmulatorData;
  readonly log: LoggedRequest[] = [];
  faults: Fault[] = [];
  /** Requests per second before answering 429; 0 means unlimited. */
  rateLimitPerSecond = 0;
  /** Serve only the older account-level QStash API (the v2 QStash endpoints answer 404). */
  legacyQStashOnly = false;
  /** The products' data planes (Redis REST and ACL, Vector/Search info, QStash signing keys). */
  dataPlane = new DataPlane();
  /** The databases' Redis protocol, on the same port (see ./resp.ts); `resp.log` lists its commands. */
  readonly resp = new RespService(this);
  private windowStart = 0;
  private windowCount = 0;
  private server: Server | undefined;
  private listener: NetServer | undefined;

  constructor(options: EmulatorOptions = {}) {
    this.data = freshData(options.account);
  }

  get url(): string {
    const address = this.listener?.address() as AddressInfo | null;
    if (!address) throw new Error("emulator is not listening");
    // A wildcard address is reached through loopback; IPv6 literals need brackets.
    const host = ["0.0.0.0", "::"].includes(address.address) ? "127.0.0.1" : address.address;
    return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
  }

  /** Resets state, log, faults and limits to a fresh account. */
  reset(account: EmulatorAccount = this.data.account): void {
    this.data = freshData(account);
    this.log.length = 0;
    this.faults = [];
    this.rateLimitPerSecond = 0;
    this.windowStart = 0;
    this.windowCount = 0;
    this.legacyQStashOnly = false;
    this.dataPlane = new DataPlane();
    this.resp.log.length = 0;
  }

  /**
   * Sets (replaces) the data-plane switch of a target; an empty switch clears
   * it. False when there is no such target.
   */
  setDataPlaneSwitch(kind: TargetKind, id: string, value: DataPlaneSwitch): boolean {
    const target = this.data[kind].get(id);
    if (!target) return false;
    this.dataPlane.setSwitch(kind, target, value);
    return true;
  }

  /** The resets that actually changed credentials. */
  rotations(pathPattern?: RegExp): LoggedRequest[] {
    return this.log.filter(
      (entry) => entry.rotated && (!pathPattern || pathPattern.test(entry.path)),
    );
  }

  /**
   * Whether a REST token or password is the current one of some target,
   * including a live Redis ACL user password or `ACL RESTTOKEN` token.
   */
  isCurrentCredential(value: string): boolean {
    const { redis, vector, search, qstash } = this.data;
    for (const db of redis.values()) {
      if ([db.password, db.rest_token, db.read_only_rest_token].includes(value)) return true;
    }
    for (const index of [...vector.values(), ...search.values()]) {
      if ([index.token, index.read_only_token].includes(value)) return true;
    }
    for (const user of qstash.values()) {
      if ([user.token, user.read_only_token, user.password].includes(value)) return true;
    }
    return value !== "" && this.dataPlane.isAclCredential(this.data, value);
  }

  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end("emulator error");
      });
    });
    // One port for HTTP and the Redis protocol: the listener hands each connection to one of them.
    const listener = this.resp.listener(this.server);
    this.listener = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen(port, host, () => {
        listener.off("error", reject);
        resolve();
      });
    });
    return this.url;
  }

  async close(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    this.resp.closeAll();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    this.server = undefined;
    this.listener = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator");
    const method = req.method ?? "GET";
    const body = await readBody(req);
    if (url.pathname.startsWith("/_emulator/")) {
      send(res, this.control(method, url.pathname, body));
      return;
    }
    if (url.pathname === "/data-plane/ping") {
      const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
      const ok = token !== "" && this.isCurrentCredential(token);
      send(res, { status: ok ? 200 : 401, body: ok ? "PONG" : "Unauthorized", text: true });
      return;
    }
    if (url.pathname.startsWith("/data-plane/")) {
      await this.handleDataPlane(method, url, body, req, res);
      return;
    }
    const request: RequestShape = {
      method,
      path: url.pathname,
      query: url.searchParams,
      accept: req.headers.accept,
    };
    const entry: LoggedRequest = {
      method,
      path: url.pathname,
      status: 0,
      rotated: false,
      at: Date.now(),
    };
    this.log.push(entry);
    const refusal = this.refusal(req, entry);
    if (refusal) {
      entry.status = refusal.status;
      send(res, refusal);
      return;
    }
    const work = (): Answer => {
      const answer = routeRequest(this.data, {
        ...request,
        legacyQStashOnly: this.legacyQStashOnly,
      });
      entry.status = answer.status;
      entry.rotated = answer.rotated === true;
      return answer;
    };
    await this.answer(method, url.pathname, entry, work, req, res);
  }

  /**
   * `/data-plane/<host>/...`: Bearer auth of the product (no Basic auth, no
   * rate limit), logged with `plane: "data"`, faults applied as to the API.
   */
  private async handleDataPlane(
    method: string,
    url: URL,
    body: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const entry: LoggedRequest = {
      method,
      path: url.pathname,
      status: 0,
      rotated: false,
      plane: "data",
      at: Date.now(),
    };
    this.log.push(entry);
    const work = (): Answer => {
      const answer = this.dataPlane.handle(this.data, {
        method,
        path: url.pathname,
        query: url.searchParams,
        authorization: req.headers.authorization,
        encoding: req.headers["upstash-encoding"],
        body,
      });
      entry.status = answer.status;
      if (answer.switched) entry.fault = "switch";
      return answer;
    };
    await this.answer(method, url.pathname, entry, work, req, res);
  }

  /** 401 for a wrong or missing Basic auth, 429 over the rate limit. */
  private refusal(req: IncomingMessage, entry: LoggedRequest): Answer | undefined {
    if (!this.authorized(req.headers.authorization)) {
      entry.fault = "unauthorized";
      return {
        status: 401,
        body: "Unauthorized",
        text: true,
        headers: { "WWW-Authenticate": 'Basic realm="Upstash Developer API"' },
      };
    }
    if (this.rateLimited()) {
      entry.fault = "rate-limit";
      const retryAfter = Math.max(1, Math.ceil((this.windowStart + 1000 - Date.now()) / 1000));
      return {
        status: 429,
        body: { error: "Too many requests" },
        headers: { "Retry-After": String(retryAfter) },
      };
    }
    return undefined;
  }

  /** Applies the matching faults around the routed answer. */
  private async answer(
    method: string,
    path: string,
    entry: LoggedRequest,
    work: () => Answer,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    let deferred: Fault | undefined;
    for (const fault of this.takeFaults(method, path)) {
      if (fault.kind === "latency") {
        await new Promise((resolve) => setTimeout(resolve, fault.ms ?? 0));
        continue;
      }
      entry.fault = fault.kind;
      // The request took effect, but the client never learns it: its result is unknown.
      if ((fault.kind === "drop" || fault.kind === "hang") && fault.afterWork) work();
      if (fault.kind === "drop") {
        req.socket.destroy();
        return;
      }
      if (fault.kind === "hang") return;
      if (fault.kind === "status") {
        if (fault.landsAfterMs !== undefined) {
          // The log keeps the status the client saw; `rotated` tells whether the work landed.
          const seen = fault.status ?? 500;
          const data = this.data;
          setTimeout(() => {
            // A reset in between (the next test) starts a new world: nothing lands in it.
            if (this.data !== data) return;
            work();
            entry.status = seen;
          }, fault.landsAfterMs).unref();
        }
        entry.status = fault.status ?? 500;
        if (fault.retryAfter !== undefined) res.setHeader("Retry-After", fault.retryAfter);
        res.writeHead(entry.status, { "Content-Type": fault.contentType ?? "text/plain" });
        res.end(fault.body ?? "Internal Server Error");
        return;
      }
      deferred = fault;
    }

    const answer = work();
    if (answer.drop) {
      req.socket.destroy();
      return;
    }
    if (deferred?.kind === "malformed-json" && answer.status === 200) {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(answer.body).slice(0, -1));
      return;
    }
    if (deferred?.kind === "wrong-content-type" && answer.status === 200) {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end("<html><body>Upstash Console</body></html>");
      return;
    }
    send(res, answer);
  }

  private authorized(header: string | undefined): boolean {
    if (!header?.startsWith("Basic ")) return false;
    const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return (
      colon > 0 &&
      decoded.slice(0, colon) === this.data.account.email &&
      decoded.slice(colon + 1) === this.data.account.apiKey
    );
  }

  private rateLimited(): boolean {
    if (this.rateLimitPerSecond <= 0) return false;
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    this.windowCount++;
    return this.windowCount > this.rateLimitPerSecond;
  }

  /** Every matching latency, then the first matching other fault; only those are used up. */
  private takeFaults(method: string, path: string): Fault[] {
    const hits = this.faults.filter(
      (fault) =>
        (!fault.method || fault.method === method) &&
        (!fault.path || new RegExp(fault.path).test(path)) &&
        (fault.times === undefined || fault.times > 0),
    );
    const waiting = hits.filter((fault) => (fault.after ?? 0) > 0);
    for (const fault of waiting) fault.after = (fault.after ?? 0) - 1;
    const armed = hits.filter((fault) => !waiting.includes(fault));
    const applied = armed.filter((fault) => fault.kind === "latency");
    const shaping = armed.find((fault) => fault.kind !== "latency");
    if (shaping) applied.push(shaping);
    for (const fault of applied) if (fault.times !== undefined) fault.times--;
    return applied;
  }

  /**
   * The control API, for tests in other processes (e2e, benchmarks, the main
   * job) and for users seeding the emulator. Bodies are JSON.
   */
  private control(method: string, path: string, body: string): Answer {
    let input: Record<string, unknown>;
    try {
      const parsed: unknown = body.trim() ? JSON.parse(body) : {};
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error();
      input = parsed as Record<string, unknown>;
    } catch {
      return { status: 400, body: { error: "the body must be a JSON object" } };
    }
    switch (`${method} ${path}`) {
      case "GET /_emulator/state":
        return {
          status: 200,
          body: {
            account: this.data.account,
            redis: [...this.data.redis.values()],
            vector: [...this.data.vector.values()],
            search: [...this.data.search.values()],
            qstash: [...this.data.qstash.values()],
          },
        };
      case "GET /_emulator/requests":
        return { status: 200, body: this.log };
      case "POST /_emulator/reset":
        this.reset((input.account as EmulatorAccount | undefined) ?? this.data.account);
        return { status: 200, body: "OK" };
      case "POST /_emulator/config":
        if (Array.isArray(input.faults)) this.faults = input.faults as Fault[];
        if (typeof input.rateLimitPerSecond === "number") {
          this.rateLimitPerSecond = input.rateLimitPerSecond;
        }
        if (typeof input.legacyQStashOnly === "boolean") {
          this.legacyQStashOnly = input.legacyQStashOnly;
        }
        if (input.clearLog === true) this.log.length = 0;
        return { status: 200, body: "OK" };
      case "POST /_emulator/targets":
        return this.addTarget(input);
      case "GET /_emulator/data-plane":
        return { status: 200, body: this.dataPlane.describe(this.data) };
      case "POST /_emulator/data-plane":
        return this.configureDataPlane(input);
      case "DELETE /_emulator/targets": {
        if (!isTargetKind(input.type)) return { status: 400, body: "bad type" };
        const removed = this.data[input.type].delete(String(input.id));
        return { status: removed ? 200 : 404, body: removed ? "OK" : "not found" };
      }
      default:
        return { status: 404, body: "unknown control endpoint", text: true };
    }
  }

  /**
   * `POST /_emulator/data-plane` `{type, id, reject?, freshTokenRejections?,
   * refuse?, aclEnabled?}`: with `reject`, `freshTokenRejections` or `refuse`
   * (null, 0 or [] to turn off) it replaces the target's `DataPlaneSwitch`;
   * `aclEnabled` (Redis only) sets `db_acl_enabled`. Answers the target's
   * data-plane view.
   */
  private configureDataPlane(input: Record<string, unknown>): Answer {
    const { type, id, reject, freshTokenRejections, refuse, aclEnabled } = input;
    if (!isTargetKind(type)) return { status: 400, body: "bad type" };
    const target = this.data[type].get(String(id));
    if (!target) return { status: 404, body: { error: `${type} ${String(id)} not found` } };
    if (reject != null && !REJECTS.includes(reject as string)) {
      return { status: 400, body: { error: `reject must be one of ${REJECTS.join(", ")}` } };
    }
    const count = freshTokenRejections ?? 0;
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0) {
      return { status: 400, body: { error: "freshTokenRejections must be a whole number" } };
    }
    if (aclEnabled !== undefined && (typeof aclEnabled !== "boolean" || type !== "redis")) {
      return { status: 400, body: { error: "aclEnabled is a boolean, for redis only" } };
    }
    const refused = refuse ?? [];
    const fields = Object.keys(target).filter((field) => /password|token/.test(field));
    if (!Array.isArray(refused) || !refused.every((field) => fields.includes(field))) {
      return { status: 400, body: { error: `refuse lists credentials: ${fields.join(", ")}` } };
    }
    if ("reject" in input || "freshTokenRejections" in input || "refuse" in input) {
      this.dataPlane.setSwitch(type, target, {
        ...(reject != null ? { reject: reject as DataPlaneSwitch["reject"] } : {}),
        ...(count > 0 ? { freshTokenRejections: count } : {}),
        ...(refused.length > 0 ? { refuse: refused as string[] } : {}),
      });
    }
    if (typeof aclEnabled === "boolean" && "db_acl_enabled" in target) {
      target.db_acl_enabled = aclEnabled ? "true" : "false";
    }
    const view = this.dataPlane
      .describe(this.data)
      .find((item) => item.type === type && item.id === String(id));
    return { status: 200, body: view };
  }

  /**
   * `POST /_emulator/targets` `{type, id?, name?, aclEnabled?,
   * credentialProtection?}`: the new target, credentials included
   * (`aclEnabled: false` makes a Redis database without ACL, like the free
   * tier; `credentialProtection: "omit"` or `"empty"` one whose `GET` shows
   * no credentials, like Upstash's Credential Protection).
   */
  private addTarget(input: Record<string, unknown>): Answer {
    const { type, id, name, aclEnabled, credentialProtection } = input;
    if (!isTargetKind(type)) return { status: 400, body: "bad type" };
    if (id !== undefined && (typeof id !== "string" || id === "")) {
      return { status: 400, body: "bad id" };
    }
    if (aclEnabled !== undefined && (typeof aclEnabled !== "boolean" || type !== "redis")) {
      return { status: 400, body: "bad aclEnabled" };
    }
    if (
      credentialProtection !== undefined &&
      (type !== "redis" || (credentialProtection !== "omit" && credentialProtection !== "empty"))
    ) {
      return { status: 400, body: 'credentialProtection is "omit" or "empty" (Redis only)' };
    }
    if (typeof id === "string" && this.data[type].has(id)) {
      return { status: 409, body: { error: `${type} ${id} already exists` } };
    }
    const created = addTarget(this.data, type, id);
    if (typeof name === "string" && name !== "") {
      if ("database_name" in created) created.database_name = name;
      else if ("name" in created) created.name = name;
    }
    if (aclEnabled === false && "db_acl_enabled" in created) created.db_acl_enabled = "false";
    if (credentialProtection === "omit" || credentialProtection === "empty") {
      this.data.credentialProtection.set(
        String((created as { database_id: string }).database_id),
        credentialProtection,
      );
    }
    return { status: 200, body: created };
  }
}

const TARGET_KINDS: readonly TargetKind[] = ["redis", "vector", "search", "qstash"];
const REJECTS: readonly string[] = ["unauthorized", "unavailable", "drop"];
const isTargetKind = (value: unknown): value is TargetKind =>
  TARGET_KINDS.includes(value as TargetKind);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, answer: Answer): void {
  for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
  if (answer.text) {
    res.writeHead(answer.status, {
      "Content-Type": "text/plain; charset=utf-8",
      "X-Content-Type-Options": "nosniff",
    });
    res.end(String(answer.body));
    return;
  }
  res.writeHead(answer.status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(answer.body));
}

/**
 * What an application holding `token` would get from the emulator's data plane:
 * 200 for a current credential, 401 for a rotated-away one.
 */
export async function dataPlaneStatus(emulatorUrl: string, token: string): Promise<number> {
  const response = await fetch(`${emulatorUrl}/data-plane/ping`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return response.status;
}

/** Starts an emulator (on loopback unless `host` says otherwise); `port` 0 picks a free one. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<UpstashEmulator> {
  const emulator = new UpstashEmulator(options);
  await emulator.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  return emulator;
}
