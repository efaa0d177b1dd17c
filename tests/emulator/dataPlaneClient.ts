import { createHash } from "crypto";
import { redisHost } from "../../emulator/dataPlane";
import { FIXTURE_IDS, type RedisDatabase } from "../../emulator/state";
import type { useEmulatorOverHttp, Reply } from "./http";

type Ctx = ReturnType<typeof useEmulatorOverHttp>;

export const sha256 = (value: string): string => createHash("sha256").update(value).digest("hex");

/** A Redis REST reply: the status and the parsed `{result}` / `{error}` body. */
export interface RestReply {
  status: number;
  result?: unknown;
  error?: string;
}

/** Speaks to one database's REST data plane through the emulator, over real HTTP. */
export function redisRest(ctx: Ctx, id: string = FIXTURE_IDS.redis) {
  const db = (): RedisDatabase => {
    const found = ctx.emulator.data.redis.get(id);
    if (!found) throw new Error(`no database ${id}`);
    return found;
  };
  const path = (suffix = "/"): string => `/data-plane/${redisHost(db())}${suffix}`;
  const parse = (reply: Reply): RestReply => ({
    status: reply.status,
    ...reply.json<{ result?: unknown; error?: string }>(),
  });
  return {
    db,
    path,
    /** `POST /` with the JSON command array, as `token` (no header when null). */
    async send(token: string | null, ...args: unknown[]): Promise<RestReply> {
      const reply = await ctx.call("POST", path(), {
        authorization: token === null ? null : `Bearer ${token}`,
        body: JSON.stringify(args),
      });
      return parse(reply);
    },
    /** The same as the database's own `rest_token` (user `default`). */
    async admin(...args: unknown[]): Promise<RestReply> {
      return this.send(db().rest_token, ...args);
    },
    /** `ACL GENTOKEN user`: the token, failing the test on an error. */
    async gentoken(user: string): Promise<string> {
      const reply = await this.admin("ACL", "GENTOKEN", user);
      if (reply.status !== 200 || typeof reply.result !== "string") {
        throw new Error(`GENTOKEN failed: ${JSON.stringify(reply)}`);
      }
      return reply.result;
    },
    /** 200 when `token` authenticates (PING), else the status (401). */
    async status(token: string): Promise<number> {
      return (await this.send(token, "PING")).status;
    },
  };
}
