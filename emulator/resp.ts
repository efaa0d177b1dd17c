import type { Server as HttpServer } from "http";
import { createServer, type Server, type Socket } from "net";
import type { DataPlane } from "./dataPlane";
import {
  commandDenied,
  runCommand,
  sha256,
  type AclUser,
  type RedisPrincipal,
  type RedisValue,
} from "./redisRest";
import type { EmulatorData, RedisDatabase } from "./state";

/**
 * The Redis protocol (RESP2 and RESP3) of the emulated databases, on the same
 * port as the HTTP API: a connection whose first byte is `*` (a RESP array,
 * how every Redis client starts) is Redis, anything else goes to the HTTP
 * server. So `redis://127.0.0.1:<emulator port>` reaches every database, and
 * `UPSTASH_DATA_PLANE_URL` alone redirects both REST and Redis clients.
 *
 * One port serves every database, so `AUTH` tells them apart: the database
 * whose password it is (user `default`), or whose ACL user it names with one
 * of that user's passwords. Passwords are random, so at most one matches.
 * Commands then run on the same engine as Redis REST (redisRest.ts), with the
 * same ACL checks. Replies and errors follow Redis 7.0 as measured on
 * Debian's `redis-server` 7.0.15 (NOAUTH, WRONGPASS, HELLO, NOPROTO).
 */

/** A RESP value as read off the wire; maps and sets come as flat arrays. */
export type RespValue = string | number | boolean | null | RespValue[] | { error: string };

/**
 * Parses one RESP2/RESP3 value at `offset`: the value and where the next one
 * begins, or undefined while the buffer holds only part of it.
 */
export function parseResp(buffer: Buffer, offset = 0): [RespValue, number] | undefined {
  const lineEnd = buffer.indexOf("\r\n", offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset]);
  const line = buffer.toString("utf8", offset + 1, lineEnd);
  const next = lineEnd + 2;
  const items = (count: number): [RespValue[], number] | undefined => {
    const values: RespValue[] = [];
    let at = next;
    for (let i = 0; i < count; i++) {
      const item = parseResp(buffer, at);
      if (!item) return undefined;
      values.push(item[0]);
      at = item[1];
    }
    return [values, at];
  };
  switch (type) {
    case "+":
      return [line, next];
    case "-":
      return [{ error: line }, next];
    case ":":
    case ",":
      return [Number(line), next];
    case "#":
      return [line === "t", next];
    case "_":
      return [null, next];
    case "$":
    case "=": {
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buffer.length < next + length + 2) return undefined;
      const text = buffer.toString("utf8", next, next + length);
      // A verbatim string starts with its format, e.g. `txt:`.
      return [type === "=" ? text.slice(4) : text, next + length + 2];
    }
    case "*":
    case "~":
    case ">":
    case "%": {
      const count = Number(line);
      if (count < 0) return [null, next];
      return items(type === "%" ? count * 2 : count);
    }
    default:
      throw new Error(`Protocol error: unexpected RESP type ${JSON.stringify(type)}`);
  }
}

/** A command as clients send it: an array of bulk strings. */
export const encodeCommand = (args: string[]): string =>
  `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join("")}`;

/** A reply to encode: bulk strings, integers, nulls, arrays, and the typed ones. */
type Reply =
  | string
  | number
  | null
  | Reply[]
  | { status: string }
  | { error: string }
  | { map: [string, Reply][] };

function encodeReply(reply: Reply, resp3: boolean): string {
  if (reply === null) return resp3 ? "_\r\n" : "$-1\r\n";
  if (typeof reply === "number") return `:${reply}\r\n`;
  if (typeof reply === "string") return `$${Buffer.byteLength(reply)}\r\n${reply}\r\n`;
  if (Array.isArray(reply)) {
    return `*${reply.length}\r\n${reply.map((item) => encodeReply(item, resp3)).join("")}`;
  }
  if ("status" in reply) return `+${reply.status}\r\n`;
  if ("error" in reply) return `-${reply.error.replace(/[\r\n]+/g, " ")}\r\n`;
  const pairs = reply.map.map(
    ([key, value]) => encodeReply(key, resp3) + encodeReply(value, resp3),
  );
  return `${resp3 ? "%" : "*"}${resp3 ? pairs.length : pairs.length * 2}\r\n${pairs.join("")}`;
}

/** What the Redis protocol reads from the emulator at every command (a reset replaces both). */
export interface RespWorld {
  readonly data: EmulatorData;
  readonly dataPlane: DataPlane;
}

/** One command as the emulator saw it: never its arguments, which may hold a password. */
export interface RespLogEntry {
  /** e.g. `AUTH`, `PING`, `ACL GETUSER`. */
  command: string;
  /** The database the connection is authenticated to (after a successful AUTH: that one). */
  database?: string;
  user?: string;
  /** `ok`, or the error's first word (`WRONGPASS`, `NOAUTH`, `NOPERM`, `ERR`, …). */
  outcome: string;
  at: number;
}

/** Who a connection authenticated as; the user is looked up again for every command. */
interface Login {
  db: RedisDatabase;
  user: string;
}

interface Session {
  id: number;
  login?: Login;
  protocol: 2 | 3;
  name?: string;
}

/** What to do after a command: answer, answer and close, or drop the connection unanswered. */
type Outcome = { reply: Reply; close?: boolean } | { drop: true };

const WRONGPASS = { error: "WRONGPASS invalid username-password pair or user is disabled." };
const NOAUTH = { error: "NOAUTH Authentication required." };
const NOAUTH_HELLO = {
  error:
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
};
const OK = { status: "OK" };
const wrongArity = (name: string): Reply => ({
  error: `ERR wrong number of arguments for '${name}' command`,
});

/** Replies Redis sends as status lines (`+OK`, `+PONG`) rather than bulk strings. */
const STATUS_COMMANDS = new Set(["set", "flushdb", "flushall", "acl"]);

/** The Redis protocol of one emulator; `log` holds every command it answered. */
export class RespService {
  readonly log: RespLogEntry[] = [];
  private readonly sockets = new Set<Socket>();
  private nextId = 1;

  constructor(private readonly world: RespWorld) {}

  /**
   * The listener of the emulator's port: each connection goes to the Redis
   * protocol or to `http` by its first byte. Nothing is read before a client
   * sends, so an HTTP client that waits for the server first would wait forever;
   * none does.
   */
  listener(http: HttpServer): Server {
    return createServer((socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
      // A client resetting the connection must not crash the emulator; HTTP adds its own handler.
      socket.on("error", () => socket.destroy());
      socket.once("data", (first: Buffer) => {
        socket.pause();
        if (first[0] === 0x2a) {
          this.serve(socket, first);
          return;
        }
        socket.unshift(first);
        http.emit("connection", socket);
        socket.resume();
      });
    });
  }

  /** Ends every connection, Redis or HTTP, so the listener can close. */
  closeAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private serve(socket: Socket, first: Buffer): void {
    const session: Session = { id: this.nextId++, protocol: 2 };
    let buffer: Buffer = Buffer.alloc(0);
    const receive = (chunk: Buffer): void => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      for (;;) {
        let command: { args: string[]; next: number } | undefined;
        try {
          command = readCommand(buffer);
        } catch (error) {
          socket.end(encodeReply({ error: `ERR ${(error as Error).message}` }, false));
          return;
        }
        if (!command) return;
        buffer = buffer.subarray(command.next);
        if (command.args.length === 0) continue;
        const outcome = this.execute(session, command.args);
        if ("drop" in outcome) {
          socket.destroy();
          return;
        }
        const encoded = encodeReply(outcome.reply, session.protocol === 3);
        if (outcome.close) {
          socket.end(encoded);
          return;
        }
        socket.write(encoded);
      }
    };
    socket.on("data", receive);
    socket.resume();
    receive(first);
  }

  private execute(session: Session, args: string[]): Outcome {
    const name = args[0].toLowerCase();
    const sub = ["acl", "client"].includes(name) && args.length > 1 ? args[1].toUpperCase() : "";
    const outcome = this.run(session, name, args);
    const login = session.login;
    const reply = "reply" in outcome ? outcome.reply : undefined;
    const failed = reply !== null && typeof reply === "object" && "error" in reply;
    this.log.push({
      command: `${name.toUpperCase()}${sub ? ` ${sub}` : ""}`,
      ...(login ? { database: login.db.database_id, user: login.user } : {}),
      outcome: "drop" in outcome ? "dropped" : failed ? reply.error.split(" ")[0] : "ok",
      at: Date.now(),
    });
    return outcome;
  }

  private run(session: Session, name: string, args: string[]): Outcome {
    if (name === "auth") return this.auth(session, args);
    if (name === "hello") return this.hello(session, args);
    if (name === "quit") return { reply: OK, close: true };
    const current = this.current(session);
    if (current === "gone")
      return { reply: { error: "ERR the user or database is gone" }, close: true };
    if (!current) return { reply: NOAUTH };
    const { db, principal } = current;
    const denied = (categories: string[], fullName = name): Reply | undefined => {
      const refusal = commandDenied(principal, name, fullName, categories);
      return refusal ? { error: refusal } : undefined;
    };
    switch (name) {
      case "select": {
        if (args.length !== 2) return { reply: wrongArity(name) };
        if (!/^-?\d+$/.test(args[1])) {
          return { reply: { error: "ERR value is not an integer or out of range" } };
        }
        // Upstash databases have only database 0.
        return {
          reply:
            denied(["fast", "connection"]) ??
            (Number(args[1]) === 0 ? OK : { error: "ERR DB index is out of range" }),
        };
      }
      case "client":
        return { reply: this.client(session, args) };
      case "info":
        // The REST engine has no INFO; clients' ready checks (ioredis) only need `loading:0`.
        return {
          reply:
            denied(["slow", "dangerous"]) ??
            "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n\r\n# Persistence\r\nloading:0\r\n",
        };
    }
    const answer = runCommand(db, this.world.dataPlane.redis(db), principal, args);
    if ("error" in answer) return { reply: { error: answer.error } };
    return { reply: this.replyOf(session, name, args, answer.result) };
  }

  /** The engine's result as Redis sends it: status lines, and RESP3 maps where Redis has them. */
  private replyOf(session: Session, name: string, args: string[], result: RedisValue): Reply {
    const status =
      typeof result === "string" &&
      ((name === "ping" && args.length === 1) ||
        (result === "OK" &&
          STATUS_COMMANDS.has(name) &&
          !args.some((arg) => arg.toUpperCase() === "GET")));
    if (status) return { status: result };
    const getuser = name === "acl" && args[1]?.toLowerCase() === "getuser";
    if (getuser && session.protocol === 3 && Array.isArray(result)) {
      const pairs: [string, Reply][] = [];
      for (let i = 0; i + 1 < result.length; i += 2) {
        pairs.push([String(result[i]), result[i + 1] as Reply]);
      }
      return { map: pairs };
    }
    return result as Reply;
  }

  /** `AUTH [user] password`. A failed AUTH leaves an earlier login as it was, as in Redis. */
  private auth(session: Session, args: string[]): Outcome {
    if (args.length < 2) return { reply: wrongArity("auth") };
    if (args.length > 3) return { reply: { error: "ERR syntax error" } };
    const [user, password] = args.length === 3 ? [args[1], args[2]] : ["default", args[1]];
    return this.login(session, user, password) ?? { reply: OK };
  }

  /**
   * Authenticates `user` with `password` against every database: undefined when
   * the connection is now logged in, else what to answer. The database's
   * data-plane switches apply here: `reject`, `refuse`, `freshTokenRejections`.
   */
  private login(session: Session, user: string, password: string): Outcome | undefined {
    const found = this.find(user, password);
    if (!found) return { reply: WRONGPASS };
    const { dataPlane } = this.world;
    const reject = dataPlane.switchOf(found).reject;
    // Redis has no 503: a database that cannot serve ends the connection, as a dropped one does.
    if (reject === "drop" || reject === "unavailable") return { drop: true };
    if (
      reject === "unauthorized" ||
      dataPlane.refuses(found, password) ||
      dataPlane.propagating("redis", found, password, "resp")
    ) {
      return { reply: WRONGPASS };
    }
    session.login = { db: found, user };
    return undefined;
  }

  /** The database where `user` has `password` (an enabled ACL user, or `default`). */
  private find(user: string, password: string): RedisDatabase | undefined {
    const hash = sha256(password);
    for (const db of this.world.data.redis.values()) {
      if (user === "default") {
        if (db.password === password) return db;
        continue;
      }
      if (db.db_acl_enabled === "false") continue;
      const acl = this.world.dataPlane.redis(db).users.get(user);
      if (acl?.enabled && acl.passwords.includes(hash)) return db;
    }
    return undefined;
  }

  /**
   * The login as it stands now: "gone" when its database was deleted (or the
   * emulator reset) or its ACL user deleted or switched off, which ends the
   * connection as Redis ends a deleted user's. Rules are read afresh, so an
   * `ACL SETUSER` applies to open connections at once.
   */
  private current(
    session: Session,
  ): { db: RedisDatabase; principal: RedisPrincipal } | "gone" | undefined {
    const login = session.login;
    if (!login) return undefined;
    if (this.world.data.redis.get(login.db.database_id) !== login.db) return "gone";
    if (login.user === "default") return { db: login.db, principal: { kind: "default" } };
    const user: AclUser | undefined = this.world.dataPlane.redis(login.db).users.get(login.user);
    if (!user?.enabled || login.db.db_acl_enabled === "false") return "gone";
    return { db: login.db, principal: { kind: "acl", user } };
  }

  /**
   * `HELLO [protover [AUTH user pass] [SETNAME name]]`: switches to RESP2 or
   * RESP3 (ioredis 6 starts with `HELLO 3 AUTH …`) and answers the server's
   * description, a map in RESP3.
   */
  private hello(session: Session, args: string[]): Outcome {
    let protocol = session.protocol;
    if (args.length > 1) {
      if (!/^-?\d+$/.test(args[1])) {
        return { reply: { error: "ERR Protocol version is not an integer or out of range" } };
      }
      const version = Number(args[1]);
      if (version !== 2 && version !== 3) {
        return { reply: { error: "NOPROTO unsupported protocol version" } };
      }
      protocol = version;
    }
    let name: string | undefined;
    let credentials: [string, string] | undefined;
    for (let i = 2; i < args.length; i++) {
      const option = args[i].toUpperCase();
      if (option === "AUTH" && i + 2 < args.length) {
        credentials = [args[i + 1], args[i + 2]];
        i += 2;
      } else if (option === "SETNAME" && i + 1 < args.length) {
        name = args[++i];
      } else {
        return { reply: { error: `ERR Syntax error in HELLO option '${args[i]}'` } };
      }
    }
    if (credentials) {
      const refused = this.login(session, ...credentials);
      if (refused) return refused;
    }
    if (!session.login) return { reply: NOAUTH_HELLO };
    session.protocol = protocol;
    if (name !== undefined) session.name = name;
    return {
      reply: {
        map: [
          ["server", "redis"],
          ["version", "7.0.15"],
          ["proto", protocol],
          ["id", session.id],
          ["mode", "standalone"],
          ["role", "master"],
          ["modules", []],
        ],
      },
    };
  }

  /** `CLIENT SETNAME/GETNAME/ID`; other subcommands (SETINFO came in Redis 7.2) are unknown. */
  private client(session: Session, args: string[]): Reply {
    const sub = (args[1] ?? "").toLowerCase();
    if (sub === "setname" && args.length === 3) {
      session.name = args[2];
      return OK;
    }
    if (sub === "getname" && args.length === 2) return session.name ?? null;
    if (sub === "id" && args.length === 2) return session.id;
    return { error: `ERR unknown subcommand '${args[1] ?? ""}'. Try CLIENT HELP.` };
  }
}

/**
 * The next command in `buffer`: a RESP array of bulk strings, or an inline
 * command (a line of words, as typed into telnet); undefined while incomplete.
 */
function readCommand(buffer: Buffer): { args: string[]; next: number } | undefined {
  if (buffer.length === 0) return undefined;
  if (buffer[0] !== 0x2a) {
    const end = buffer.indexOf("\n");
    if (end < 0) return undefined;
    const line = buffer.toString("utf8", 0, end).trim();
    return { args: line === "" ? [] : line.split(/\s+/), next: end + 1 };
  }
  const parsed = parseResp(buffer);
  if (!parsed) return undefined;
  const [value, next] = parsed;
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new Error("Protocol error: a command is an array of bulk strings");
  }
  return { args: value as string[], next };
}
