import { createHash, randomBytes } from "crypto";
import type { RedisDatabase } from "./state";

/**
 * The Redis REST data plane of one emulated database: a small string key
 * store, and Upstash's ACL (`ACL SETUSER/GETUSER/DELUSER/USERS/WHOAMI` as in
 * Redis 7, plus Upstash's `GENTOKEN`/`RESTTOKEN`). Semantics follow Redis 7.0
 * where Upstash documents nothing else (multi-password users, atomic SETUSER,
 * the error texts measured in shared/reference/zero-downtime-research.md §6).
 */

/** A Redis command result as the REST API encodes it (`{"result": ...}`). */
export type RedisValue = string | number | null | RedisValue[];

/** One command's outcome: `{"result": ...}` (200) or `{"error": ...}` (400). */
export type RedisReply = { result: RedisValue } | { error: string };

export interface AclUser {
  name: string;
  enabled: boolean;
  /** SHA-256 hex of each password, in the order they were added (as GETUSER lists them). */
  passwords: string[];
  /** `+@all` (true) or `-@all` (false) before `commandRules`. */
  allCommands: boolean;
  /** `+cmd`, `-cmd`, `+@category`, `-@category`, applied left to right after the base. */
  commandRules: string[];
  /** Key patterns without the `~`; `*` alone is `allkeys`. */
  keys: string[];
  /** Channel patterns without the `&`; `*` alone is `allchannels`. */
  channels: string[];
  /** Tokens minted by `ACL RESTTOKEN`, each with the SHA-256 of the password it came from. */
  restTokens: Map<string, string>;
}

/** A token `ACL GENTOKEN` handed out, and for whom. */
interface GeneratedToken {
  user: string;
  /** The password the caller supplied to GENTOKEN, if any. */
  password?: string;
}

interface StoredValue {
  value: string;
  /** Milliseconds since the epoch; absent: no expiry. */
  expiresAt?: number;
}

/** The data-plane state of one database; the Developer API's reset-password leaves it alone. */
export interface RedisPlane {
  store: Map<string, StoredValue>;
  users: Map<string, AclUser>;
  /** Every token `ACL GENTOKEN` generated for this database. */
  generated: Map<string, GeneratedToken>;
}

/** Who sent a command: the database's own tokens, or an ACL user. */
export type RedisPrincipal =
  { kind: "default" } | { kind: "default_ro" } | { kind: "acl"; user: AclUser };

export const sha256 = (value: string): string => createHash("sha256").update(value).digest("hex");

export function newRedisPlane(): RedisPlane {
  return { store: new Map(), users: new Map(), generated: new Map() };
}

const token = (prefix: string): string =>
  `${prefix}${randomBytes(40).toString("base64").replace(/[+/=]/g, "")}`;

const aclEnabled = (db: RedisDatabase): boolean => db.db_acl_enabled !== "false";

/** Whether `sent` is a current credential of an ACL user of this database. */
export function aclUserFor(
  db: RedisDatabase,
  plane: RedisPlane,
  sent: string,
): AclUser | undefined {
  if (!aclEnabled(db)) return undefined;
  const hash = sha256(sent);
  for (const user of plane.users.values()) {
    if (!user.enabled) continue;
    if (user.passwords.includes(hash)) return user;
    const from = user.restTokens.get(sent);
    if (from !== undefined && user.passwords.includes(from)) return user;
  }
  return undefined;
}

/**
 * Who `sent` authenticates as: the database's `rest_token` (user `default`),
 * `read_only_rest_token` (`default_ro`), a password of an enabled ACL user (a
 * GENTOKEN string is its own REST token), or a token from `ACL RESTTOKEN`
 * whose password the user still holds.
 */
export function authenticate(
  db: RedisDatabase,
  plane: RedisPlane,
  sent: string,
): RedisPrincipal | undefined {
  if (sent === "") return undefined;
  if (sent === db.rest_token) return { kind: "default" };
  if (sent === db.read_only_rest_token) return { kind: "default_ro" };
  const user = aclUserFor(db, plane, sent);
  return user ? { kind: "acl", user } : undefined;
}

/** SHA-256 of every token that authenticates to this database right now. */
export function liveTokenHashes(db: RedisDatabase, plane: RedisPlane): Set<string> {
  const hashes = new Set([sha256(db.rest_token), sha256(db.read_only_rest_token)]);
  if (!aclEnabled(db)) return hashes;
  for (const user of plane.users.values()) {
    if (!user.enabled) continue;
    for (const hash of user.passwords) hashes.add(hash);
    for (const [minted, from] of user.restTokens) {
      if (user.passwords.includes(from)) hashes.add(sha256(minted));
    }
  }
  return hashes;
}

/** Redis 7.0's ACL categories (`ACL CAT`). */
const CATEGORIES = [
  "keyspace",
  "read",
  "write",
  "set",
  "sortedset",
  "list",
  "hash",
  "string",
  "bitmap",
  "hyperloglog",
  "geo",
  "stream",
  "pubsub",
  "admin",
  "fast",
  "slow",
  "blocking",
  "dangerous",
  "connection",
  "transaction",
  "scripting",
];

/** Redis 7.0's top-level command names (`COMMAND LIST`), so `+cmd` rules can be checked. */
const REDIS_COMMANDS = new Set(
  `acl append asking auth bgrewriteaof bgsave bitcount bitfield bitfield_ro bitop bitpos blmove
  blmpop blpop brpop brpoplpush bzmpop bzpopmax bzpopmin client cluster command config copy
  dbsize debug decr decrby del discard dump echo eval eval_ro evalsha evalsha_ro exec exists
  expire expireat expiretime failover fcall fcall_ro flushall flushdb function geoadd geodist
  geohash geopos georadius georadius_ro georadiusbymember georadiusbymember_ro geosearch
  geosearchstore get getbit getdel getex getrange getset hdel hello hexists hget hgetall hincrby
  hincrbyfloat hkeys hlen hmget hmset hrandfield hscan hset hsetnx hstrlen hvals incr incrby
  incrbyfloat info keys lastsave latency lcs lindex linsert llen lmove lmpop lolwut lpop lpos
  lpush lpushx lrange lrem lset ltrim memory mget migrate module monitor move mset msetnx multi
  object persist pexpire pexpireat pexpiretime pfadd pfcount pfdebug pfmerge pfselftest ping
  psetex psubscribe psync pttl publish pubsub punsubscribe quit randomkey readonly readwrite
  rename renamenx replconf replicaof reset restore restore-asking role rpop rpoplpush rpush
  rpushx sadd save scan scard script sdiff sdiffstore select set setbit setex setnx setrange
  shutdown sinter sintercard sinterstore sismember slaveof slowlog smembers smismember smove
  sort sort_ro spop spublish srandmember srem sscan ssubscribe strlen subscribe substr sunion
  sunionstore sunsubscribe swapdb sync time touch ttl type unlink unsubscribe unwatch wait watch
  xack xadd xautoclaim xclaim xdel xgroup xinfo xlen xpending xrange xread xreadgroup xrevrange
  xsetid xtrim zadd zcard zcount zdiff zdiffstore zincrby zinter zintercard zinterstore
  zlexcount zmpop zmscore zpopmax zpopmin zrandmember zrange zrangebylex zrangebyscore
  zrangestore zrank zrem zremrangebylex zremrangebyrank zremrangebyscore zrevrange
  zrevrangebylex zrevrangebyscore zrevrank zscan zscore zunion zunionstore`.split(/\s+/),
);

class CommandError extends Error {}
const fail = (message: string): never => {
  throw new CommandError(message);
};

interface Context {
  db: RedisDatabase;
  plane: RedisPlane;
  principal: RedisPrincipal;
  args: string[];
}

interface CommandSpec {
  /** Redis arity: exact count when positive, a minimum (negated) when negative. */
  arity: number;
  /** The categories Redis 7.0 puts it in (`COMMAND INFO`). */
  categories: string[];
  /** The key arguments, checked against the user's `~` patterns. */
  keys?: (args: string[]) => string[];
  run: (ctx: Context) => RedisValue;
}

const arityOk = (arity: number, count: number): boolean =>
  arity >= 0 ? count === arity : count >= -arity;
const wrongArity = (name: string): string => `ERR wrong number of arguments for '${name}' command`;

const firstKey = (args: string[]): string[] => [args[1]];
const allKeys = (args: string[]): string[] => args.slice(1);

function live(plane: RedisPlane, key: string): StoredValue | undefined {
  const stored = plane.store.get(key);
  if (stored?.expiresAt !== undefined && stored.expiresAt <= Date.now()) {
    plane.store.delete(key);
    return undefined;
  }
  return stored;
}

function integer(value: string): number {
  if (!/^-?\d+$/.test(value)) fail("ERR value is not an integer or out of range");
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) fail("ERR value is not an integer or out of range");
  return parsed;
}

/** `SET key value [NX|XX] [GET] [EX s|PX ms|KEEPTTL]`. */
function set({ plane, args }: Context): RedisValue {
  const [, key, value] = args;
  let condition: "NX" | "XX" | undefined;
  let get = false;
  let ttl: number | undefined;
  let keepTtl = false;
  for (let i = 3; i < args.length; i++) {
    const option = args[i].toUpperCase();
    if ((option === "NX" || option === "XX") && !condition) condition = option;
    else if (option === "GET") get = true;
    else if (option === "KEEPTTL" && ttl === undefined) keepTtl = true;
    else if ((option === "EX" || option === "PX") && ttl === undefined && !keepTtl) {
      if (i + 1 >= args.length) fail("ERR syntax error");
      const amount = integer(args[++i]);
      if (amount <= 0) fail("ERR invalid expire time in 'set' command");
      ttl = option === "EX" ? amount * 1000 : amount;
    } else fail("ERR syntax error");
  }
  const before = live(plane, key);
  const previous = before ? before.value : null;
  if ((condition === "NX" && before) || (condition === "XX" && !before)) {
    return get ? previous : null;
  }
  const expiresAt = ttl !== undefined ? Date.now() + ttl : keepTtl ? before?.expiresAt : undefined;
  plane.store.set(key, expiresAt === undefined ? { value } : { value, expiresAt });
  return get ? previous : "OK";
}

function globRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "*") source += "[\\s\\S]*";
    else if (char === "?") source += "[\\s\\S]";
    else if (char === "\\" && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]);
    else if (char === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) {
        source += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith("^");
      if (negate) body = body.slice(1);
      const escaped = body.replace(/[\\\]^]/g, (c) => `\\${c}`);
      source += `[${negate ? "^" : ""}${escaped}]`;
      i = end;
    } else source += escapeRegExp(char);
  }
  return new RegExp(`^${source}$`);
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/** Redis glob matching (`*`, `?`, `[...]`, `\x`), as KEYS and `~pattern` use it. */
export function globMatch(pattern: string, text: string): boolean {
  return globRegExp(pattern).test(text);
}

/** The string commands the emulator runs; any other real command answers "not emulated". */
const COMMANDS: Record<string, CommandSpec> = {
  ping: {
    arity: -1,
    categories: ["fast", "connection"],
    run: ({ args }) => (args.length > 2 ? fail(wrongArity("ping")) : (args[1] ?? "PONG")),
  },
  echo: { arity: 2, categories: ["fast", "connection"], run: ({ args }) => args[1] },
  get: {
    arity: 2,
    categories: ["read", "string", "fast"],
    keys: firstKey,
    run: ({ plane, args }) => live(plane, args[1])?.value ?? null,
  },
  mget: {
    arity: -2,
    categories: ["read", "string", "fast"],
    keys: allKeys,
    run: ({ plane, args }) => args.slice(1).map((key) => live(plane, key)?.value ?? null),
  },
  set: { arity: -3, categories: ["write", "string", "slow"], keys: firstKey, run: set },
  incr: {
    arity: 2,
    categories: ["write", "string", "fast"],
    keys: firstKey,
    run: ({ plane, args }) => {
      const stored = live(plane, args[1]);
      const next = (stored ? integer(stored.value) : 0) + 1;
      plane.store.set(args[1], { ...stored, value: String(next) });
      return next;
    },
  },
  del: {
    arity: -2,
    categories: ["keyspace", "write", "slow"],
    keys: allKeys,
    run: ({ plane, args }) =>
      [...new Set(args.slice(1))].filter((key) => live(plane, key) && plane.store.delete(key))
        .length,
  },
  exists: {
    arity: -2,
    categories: ["keyspace", "read", "fast"],
    keys: allKeys,
    run: ({ plane, args }) => args.slice(1).filter((key) => live(plane, key)).length,
  },
  expire: {
    arity: 3,
    categories: ["keyspace", "write", "fast"],
    keys: firstKey,
    run: ({ plane, args }) => {
      const seconds = integer(args[2]);
      const stored = live(plane, args[1]);
      if (!stored) return 0;
      if (seconds <= 0) plane.store.delete(args[1]);
      else stored.expiresAt = Date.now() + seconds * 1000;
      return 1;
    },
  },
  ttl: {
    arity: 2,
    categories: ["keyspace", "read", "fast"],
    keys: firstKey,
    run: ({ plane, args }) => {
      const stored = live(plane, args[1]);
      if (!stored) return -2;
      if (stored.expiresAt === undefined) return -1;
      return Math.max(0, Math.round((stored.expiresAt - Date.now()) / 1000));
    },
  },
  keys: {
    arity: 2,
    categories: ["keyspace", "read", "slow", "dangerous"],
    run: ({ plane, args }) =>
      [...plane.store.keys()].filter((key) => live(plane, key) && globMatch(args[1], key)),
  },
  dbsize: {
    arity: 1,
    categories: ["keyspace", "read", "fast"],
    run: ({ plane }) => [...plane.store.keys()].filter((key) => live(plane, key)).length,
  },
  flushdb: {
    arity: -1,
    categories: ["keyspace", "write", "slow", "dangerous"],
    run: ({ plane }) => {
      plane.store.clear();
      return "OK";
    },
  },
  flushall: {
    arity: -1,
    categories: ["keyspace", "write", "slow", "dangerous"],
    run: ({ plane }) => {
      plane.store.clear();
      return "OK";
    },
  },
};

const ADMIN = ["admin", "slow", "dangerous"];

/** `ACL <subcommand>`: arity (counting `ACL` and the subcommand) and categories, as Redis 7.0. */
const ACL_SUBCOMMANDS: Record<string, { arity: number; categories: string[] }> = {
  setuser: { arity: -3, categories: ADMIN },
  getuser: { arity: 3, categories: ADMIN },
  deluser: { arity: -3, categories: ADMIN },
  users: { arity: 2, categories: ADMIN },
  list: { arity: 2, categories: ADMIN },
  load: { arity: 2, categories: ADMIN },
  save: { arity: 2, categories: ADMIN },
  whoami: { arity: 2, categories: ["slow"] },
  cat: { arity: -2, categories: ["slow"] },
  genpass: { arity: -2, categories: ["slow"] },
  // Upstash extensions; their categories are not documented, admin is the safe guess.
  gentoken: { arity: -3, categories: ADMIN },
  resttoken: { arity: 4, categories: ADMIN },
};

const RESERVED = "default";

/** Whether `principal` may run `name` (categories `categories`); the NOPERM error otherwise. */
export function commandDenied(
  principal: RedisPrincipal,
  command: string,
  fullName: string,
  categories: string[],
): string | undefined {
  const noperm = `NOPERM this user has no permissions to run the '${fullName}' command`;
  if (principal.kind === "default") return undefined;
  if (principal.kind === "default_ro") {
    const readable =
      categories.includes("read") || categories.includes("connection") || fullName === "acl|whoami";
    return readable ? undefined : noperm;
  }
  let allowed = principal.user.allCommands;
  for (const rule of principal.user.commandRules) {
    const target = rule.slice(1);
    const matches = target.startsWith("@")
      ? categories.includes(target.slice(1))
      : target === command;
    if (matches) allowed = rule.startsWith("+");
  }
  return allowed ? undefined : noperm;
}

/**
 * Whether a request's `Upstash-Encoding` header asks for base64 answers, as
 * `@upstash/redis` does unless told `responseEncoding: false`.
 */
export function wantsBase64(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.trim().toLowerCase() === "base64";
}

const base64Value = (value: RedisValue): RedisValue =>
  typeof value === "string"
    ? Buffer.from(value, "utf8").toString("base64")
    : Array.isArray(value)
      ? value.map(base64Value)
      : value;

/**
 * A reply as `Upstash-Encoding: base64` has it: "all strings in the response
 * will be base64 encoded, except for the OK response" (Upstash's REST API
 * page). `@upstash/redis` decodes every string it gets except a top-level
 * "OK", so a plain string anywhere else would reach the caller as garbage.
 * Errors, integers and nulls stay as they are. A stored value "OK" goes out
 * plain too: the emulator cannot tell it from the status reply, and the client
 * reads both the same way.
 */
export function base64Reply(reply: RedisReply): RedisReply {
  if ("error" in reply) return reply;
  return { result: reply.result === "OK" ? "OK" : base64Value(reply.result) };
}

/**
 * Runs one command (`args[0]` is its name) as `principal`: `{result}` or
 * `{error}` as the REST API answers them (200 / 400).
 */
export function runCommand(
  db: RedisDatabase,
  plane: RedisPlane,
  principal: RedisPrincipal,
  args: string[],
): RedisReply {
  try {
    return { result: dispatch({ db, plane, principal, args }) };
  } catch (error) {
    if (error instanceof CommandError) return { error: error.message };
    throw error;
  }
}

function dispatch(ctx: Context): RedisValue {
  const { args, principal } = ctx;
  if (args.length === 0) fail("ERR empty command");
  const name = args[0].toLowerCase();
  if (name === "acl") return acl(ctx);
  const spec = COMMANDS[name];
  if (!spec) {
    if (REDIS_COMMANDS.has(name)) fail(`ERR '${name}' is not emulated`);
    const rest = args
      .slice(1)
      .map((arg) => `'${arg}' `)
      .join("");
    fail(`ERR unknown command '${args[0]}', with args beginning with: ${rest}`);
  }
  if (!arityOk(spec.arity, args.length)) fail(wrongArity(name));
  const denied = commandDenied(principal, name, name, spec.categories);
  if (denied) fail(denied);
  if (principal.kind === "acl" && spec.keys) {
    const patterns = principal.user.keys;
    const forbidden = spec
      .keys(args)
      .some((key) => !patterns.some((pattern) => globMatch(pattern, key)));
    if (forbidden) {
      fail("NOPERM this user has no permissions to access one of the keys used as arguments");
    }
  }
  return spec.run(ctx);
}

function acl(ctx: Context): RedisValue {
  const { db, plane, principal, args } = ctx;
  if (args.length < 2) fail(wrongArity("acl"));
  // The real wording for a database without ACL (the free tier) is unverified.
  if (!aclEnabled(db)) fail("ERR ACL is not enabled for this database");
  const sub = args[1].toLowerCase();
  const spec = ACL_SUBCOMMANDS[sub];
  if (!spec) fail(`ERR unknown subcommand '${args[1]}'. Try ACL HELP.`);
  const fullName = `acl|${sub}`;
  if (!arityOk(spec.arity, args.length)) fail(wrongArity(fullName));
  const denied = commandDenied(principal, "acl", fullName, spec.categories);
  if (denied) fail(denied);
  const name = args[2];
  switch (sub) {
    case "setuser":
      return setUser(plane, name, args.slice(3));
    case "getuser":
      return getUser(db, plane, name);
    case "deluser": {
      const names = args.slice(2);
      if (names.includes(RESERVED)) fail("ERR The 'default' user cannot be removed");
      return names.filter((user) => plane.users.delete(user)).length;
    }
    case "users":
      return [RESERVED, ...[...plane.users.keys()].sort()];
    case "list":
      return [
        `user default on #${sha256(db.password)} ~* &* +@all`,
        ...[...plane.users.values()]
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .map((user) =>
            [
              `user ${user.name}`,
              user.enabled ? "on" : "off",
              ...user.passwords.map((hash) => `#${hash}`),
              describeKeys(user),
              describeChannels(user),
              describeCommands(user),
            ]
              .filter(Boolean)
              .join(" "),
          ),
      ];
    case "load":
    case "save":
      return "OK";
    case "whoami":
      return principal.kind === "acl" ? principal.user.name : principal.kind;
    case "cat": {
      if (args.length > 3) fail(wrongArity(fullName));
      if (args.length === 2) return [...CATEGORIES];
      const category = args[2].toLowerCase();
      if (!CATEGORIES.includes(category)) fail(`ERR Unknown category '${args[2]}'`);
      return Object.entries(COMMANDS)
        .filter(([, command]) => command.categories.includes(category))
        .map(([command]) => command);
    }
    case "genpass": {
      if (args.length > 3) fail(wrongArity(fullName));
      const bits = args.length === 3 ? integer(args[2]) : 256;
      if (bits <= 0 || bits > 4096) {
        fail(
          "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
        );
      }
      return randomBytes(Math.ceil(bits / 8))
        .toString("hex")
        .slice(0, Math.ceil(bits / 4));
    }
    case "gentoken":
      return genToken(plane, args);
    case "resttoken":
      return restToken(plane, name, args[3]);
    default:
      return fail(`ERR unknown subcommand '${args[1]}'. Try ACL HELP.`);
  }
}

/**
 * `ACL GENTOKEN <user> [password]`: a new strong token remembered for this
 * database and user. A supplied password must look strong: the real entropy
 * check is not documented, so the emulator asks for 16+ characters, 8+ distinct.
 */
function genToken(plane: RedisPlane, args: string[]): RedisValue {
  if (args.length > 4) fail(wrongArity("acl|gentoken"));
  const [, , user, password] = args;
  if (password !== undefined && (password.length < 16 || new Set(password).size < 8)) {
    fail("ERR password is too weak");
  }
  const generated = token("AU");
  plane.generated.set(generated, password === undefined ? { user } : { user, password });
  return generated;
}

/**
 * `ACL RESTTOKEN <user> <password>`: a REST token with the user's permissions,
 * valid while the user is on and still holds that password. `password` is the
 * `>` value (a GENTOKEN string) or the password that was given to GENTOKEN.
 */
function restToken(plane: RedisPlane, name: string, password: string): RedisValue {
  const user = plane.users.get(name);
  const wrong = `ERR Wrong password or user "${name}" does not exist`;
  if (!user) return fail(wrong);
  let from: string | undefined = sha256(password);
  if (!user.passwords.includes(from)) {
    from = undefined;
    for (const [generated, origin] of plane.generated) {
      if (origin.user === name && origin.password === password) {
        const hash = sha256(generated);
        if (user.passwords.includes(hash)) from = hash;
      }
    }
  }
  if (from === undefined) return fail(wrong);
  const minted = token("AR");
  user.restTokens.set(minted, from);
  return minted;
}

const newUser = (name: string): AclUser => ({
  name,
  enabled: false,
  passwords: [],
  allCommands: false,
  commandRules: [],
  keys: [],
  channels: [],
  restTokens: new Map(),
});

/** A rule as errors may echo it: passwords and hashes are never repeated back. */
const shown = (rule: string): string => (/^[<>#!]/.test(rule) ? `${rule[0]}…` : rule);

/**
 * `ACL SETUSER`: applies `rules` left to right to a copy of the user (created
 * off, with no rights, if missing); any failing rule leaves the user as it was.
 */
function setUser(plane: RedisPlane, name: string, rules: string[]): string {
  // Upstash: "default cannot be modified"; the exact wording is unverified.
  if (name === RESERVED) fail("ERR The 'default' user cannot be modified");
  if (/[\s\0]/.test(name)) fail("ERR Usernames can't contain spaces or null characters");
  const current = plane.users.get(name);
  const user: AclUser = current
    ? {
        ...current,
        passwords: [...current.passwords],
        commandRules: [...current.commandRules],
        keys: [...current.keys],
        channels: [...current.channels],
      }
    : newUser(name);
  for (const rule of rules) {
    const error = applyRule(plane, user, rule);
    if (error) fail(`ERR Error in ACL SETUSER modifier '${shown(rule)}': ${error}`);
  }
  plane.users.set(name, user);
  return "OK";
}

const MUST_GENTOKEN = "passwords must be generated with ACL GENTOKEN";
const PASSWORD_ABSENT = "The password you are trying to remove from the user does not exist";

function addPattern(
  list: string[],
  pattern: string,
  kind: "keys" | "channels",
): string | undefined {
  if (list.includes("*") && pattern !== "*") {
    return kind === "keys"
      ? "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
      : "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
  }
  if (pattern === "*") list.splice(0, list.length, "*");
  else if (!list.includes(pattern)) list.push(pattern);
  return undefined;
}

/** Applies one SETUSER rule to `user`; answers the error text when the rule is refused. */
function applyRule(plane: RedisPlane, user: AclUser, rule: string): string | undefined {
  const lower = rule.toLowerCase();
  switch (lower) {
    case "on":
      user.enabled = true;
      return;
    case "off":
      user.enabled = false;
      return;
    case "resetpass":
      user.passwords = [];
      return;
    case "nopass":
      return "every user must have at least one password";
    case "allkeys":
      user.keys = ["*"];
      return;
    case "resetkeys":
      user.keys = [];
      return;
    case "allchannels":
      user.channels = ["*"];
      return;
    case "resetchannels":
      user.channels = [];
      return;
    case "allcommands":
      return applyRule(plane, user, "+@all");
    case "nocommands":
      return applyRule(plane, user, "-@all");
    case "reset":
      Object.assign(user, {
        enabled: false,
        passwords: [],
        allCommands: false,
        commandRules: [],
        keys: [],
        channels: [],
      });
      return;
  }
  const value = rule.slice(1);
  switch (rule[0]) {
    case ">": {
      const generated = plane.generated.get(value);
      if (!generated || generated.user !== user.name) return MUST_GENTOKEN;
      const hash = sha256(value);
      if (!user.passwords.includes(hash)) user.passwords.push(hash);
      return;
    }
    case "<": {
      const index = user.passwords.indexOf(sha256(value));
      if (index < 0) return PASSWORD_ABSENT;
      user.passwords.splice(index, 1);
      return;
    }
    case "#":
      return MUST_GENTOKEN;
    case "!": {
      if (!/^[0-9a-f]{64}$/.test(value)) {
        return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
      }
      const index = user.passwords.indexOf(value);
      if (index < 0) return PASSWORD_ABSENT;
      user.passwords.splice(index, 1);
      return;
    }
    case "~":
      return addPattern(user.keys, value, "keys");
    case "&":
      return addPattern(user.channels, value, "channels");
    case "+":
    case "-":
      return commandRule(user, rule[0], value.toLowerCase());
    default:
      return "Syntax error";
  }
}

function commandRule(user: AclUser, sign: "+" | "-", target: string): string | undefined {
  if (target.includes("|")) {
    // Upstash rejects subcommand rules; its wording is unverified.
    return "subcommand rules are not supported";
  }
  const known = target.startsWith("@")
    ? target === "@all" || CATEGORIES.includes(target.slice(1))
    : REDIS_COMMANDS.has(target);
  if (!known) return "Unknown command or category name in ACL";
  if (target === "@all") {
    user.allCommands = sign === "+";
    user.commandRules = [];
    return;
  }
  user.commandRules = user.commandRules.filter((rule) => rule.slice(1) !== target);
  user.commandRules.push(`${sign}${target}`);
  return undefined;
}

const describeCommands = (user: AclUser): string =>
  [user.allCommands ? "+@all" : "-@all", ...user.commandRules].join(" ");
const describeKeys = (user: AclUser): string => user.keys.map((key) => `~${key}`).join(" ");
const describeChannels = (user: AclUser): string =>
  user.channels.map((channel) => `&${channel}`).join(" ");

/** `ACL GETUSER`: Upstash's five fields (no `selectors`), or null for a missing user. */
function getUser(db: RedisDatabase, plane: RedisPlane, name: string): RedisValue {
  if (name === RESERVED) {
    return [
      "flags",
      ["on"],
      "passwords",
      [sha256(db.password)],
      "commands",
      "+@all",
      "keys",
      "~*",
      "channels",
      "&*",
    ];
  }
  const user = plane.users.get(name);
  if (!user) return null;
  return [
    "flags",
    [user.enabled ? "on" : "off"],
    "passwords",
    [...user.passwords],
    "commands",
    describeCommands(user),
    "keys",
    describeKeys(user),
    "channels",
    describeChannels(user),
  ];
}
