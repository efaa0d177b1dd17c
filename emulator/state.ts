import { randomBytes, randomUUID } from "crypto";

/** A Redis database as the Developer API returns it, credentials included. */
export interface RedisDatabase {
  database_id: string;
  database_name: string;
  database_type: string;
  region: string;
  port: number;
  creation_time: number;
  state: string;
  password: string;
  user_email: string;
  endpoint: string;
  tls: boolean;
  consistent: boolean;
  rest_token: string;
  read_only_rest_token: string;
}

/** A Vector or Search index; both carry `token`/`read_only_token`. */
export interface RestIndex {
  customer_id: string;
  id: string;
  name: string;
  endpoint: string;
  token: string;
  read_only_token: string;
  type: string;
  region: string;
  creation_time: number;
}

export interface QStashUser {
  customer_id: string;
  id: string;
  token: string;
  read_only_token: string;
  password: string;
  active: boolean;
  state: string;
  region: string;
  type: string;
  creation_time: number;
}

export interface EmulatorAccount {
  email: string;
  apiKey: string;
}

export interface EmulatorData {
  account: EmulatorAccount;
  redis: Map<string, RedisDatabase>;
  vector: Map<string, RestIndex>;
  search: Map<string, RestIndex>;
  qstash: Map<string, QStashUser>;
}

/** Ids of the fixtures every fresh emulator starts with. */
export const FIXTURE_IDS = {
  redis: "96ad0856-03b1-4ee7-9666-e81abd0349e1",
  vector: "0639864f-ece6-429c-8118-86a287b0e808",
  search: "99a4c327-31f0-490f-a594-043ade84085a",
  qstash: "7b2c9d41-5e8f-4a3b-9c1d-2e6f8a0b4c7d",
} as const;

export const DEFAULT_ACCOUNT: EmulatorAccount = {
  email: "dev@example.com",
  apiKey: "emulator-api-key-0000",
};

const secret = (bytes = 24): string => randomBytes(bytes).toString("hex");
const restToken = (prefix: string): string =>
  `${prefix}${randomBytes(36).toString("base64").replace(/[+/=]/g, "")}`;

export function newRedisCredentials(): Pick<
  RedisDatabase,
  "password" | "rest_token" | "read_only_rest_token"
> {
  return {
    password: secret(16),
    rest_token: restToken("AX"),
    read_only_rest_token: restToken("An"),
  };
}

export function newIndexCredentials(): Pick<RestIndex, "token" | "read_only_token"> {
  return { token: restToken("QkZG"), read_only_token: restToken("QkZGR") };
}

export function newQStashCredentials(): Pick<QStashUser, "token" | "read_only_token" | "password"> {
  return { token: restToken("eyJV"), read_only_token: restToken("eyJR"), password: secret(16) };
}

export function addRedis(data: EmulatorData, id: string = randomUUID()): RedisDatabase {
  const db: RedisDatabase = {
    database_id: id,
    database_name: `db-${id.slice(0, 8)}`,
    database_type: "Pay as You Go",
    region: "eu-central-1",
    port: 6379,
    creation_time: 1658909671,
    state: "active",
    user_email: data.account.email,
    endpoint: `eu2-emulated-${id.slice(0, 8)}.upstash.io`,
    tls: true,
    consistent: false,
    ...newRedisCredentials(),
  };
  data.redis.set(id, db);
  return db;
}

export function addIndex(
  data: EmulatorData,
  kind: "vector" | "search",
  id: string = randomUUID(),
): RestIndex {
  const index: RestIndex = {
    customer_id: data.account.email,
    id,
    name: `${kind}-${id.slice(0, 8)}`,
    endpoint: `emulated-${kind}-${id.slice(0, 8)}-us1`,
    type: "payg",
    region: "us-east-1",
    creation_time: 1753207106,
    ...newIndexCredentials(),
  };
  data[kind].set(id, index);
  return index;
}

export function addQStashUser(data: EmulatorData, id: string = randomUUID()): QStashUser {
  const user: QStashUser = {
    customer_id: data.account.email,
    id,
    active: true,
    state: "active",
    region: "eu-central-1",
    type: "paid",
    creation_time: 1760423113,
    ...newQStashCredentials(),
  };
  data.qstash.set(id, user);
  return user;
}

/** A fresh account with one Redis database, Vector index, Search index and QStash user. */
export function freshData(account: EmulatorAccount = DEFAULT_ACCOUNT): EmulatorData {
  const data: EmulatorData = {
    account: { ...account },
    redis: new Map(),
    vector: new Map(),
    search: new Map(),
    qstash: new Map(),
  };
  addRedis(data, FIXTURE_IDS.redis);
  addIndex(data, "vector", FIXTURE_IDS.vector);
  addIndex(data, "search", FIXTURE_IDS.search);
  addQStashUser(data, FIXTURE_IDS.qstash);
  return data;
}
