import { randomBytes, randomUUID } from "crypto";

/**
 * Plan and limit fields of the OpenAPI `Database` schema. The emulator only
 * returns them, so users' parsers see the documented shape; it never acts on them.
 */
function redisPlan(email: string, region: string) {
  return {
    type: "payg",
    budget: 360,
    primary_region: region,
    primary_members: [region],
    all_members: [region],
    read_regions: [] as string[],
    eviction: false,
    auto_upgrade: false,
    modifying_state: "",
    db_max_clients: 10000,
    db_max_request_size: 10485760,
    db_disk_threshold: 107374182400,
    db_max_entry_size: 104857600,
    db_memory_threshold: 3221225472,
    db_max_commands_per_second: 10000,
    customer_id: email,
    daily_backup_enabled: false,
    prod_pack_enabled: false,
  };
}

/**
 * A Redis database as the Developer API returns it, credentials included (the
 * OpenAPI `Database` schema leaves out `password`, `rest_token` and
 * `read_only_rest_token`, which real answers carry).
 */
export interface RedisDatabase extends ReturnType<typeof redisPlan> {
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
  /**
   * Whether the database has ACL (all paid plans; not the free tier), a string
   * as the Developer API sends it. "false" makes every ACL command of its data
   * plane fail; set it with `POST /_emulator/data-plane` or directly.
   */
  db_acl_enabled: "true" | "false";
}

/** The credential fields `GET /v2/redis/database/{id}?credentials=hide` leaves out. */
export type RedisCredentialField = "password" | "rest_token" | "read_only_rest_token";

/** Plan and limit fields of the OpenAPI `VectorIndex` and `SearchIndex` schemas. */
function indexPlan(kind: "vector" | "search"): Record<string, unknown> {
  const limits = {
    max_daily_updates: -1,
    max_daily_queries: -1,
    max_monthly_bandwidth: -1,
    max_writes_per_second: 1000,
    max_query_per_second: 1000,
    max_reads_per_request: 1000,
    max_writes_per_request: 1000,
  };
  return kind === "vector"
    ? {
        similarity_function: "COSINE",
        dimension_count: 384,
        index_type: "DENSE",
        max_vector_count: 5210000,
        max_total_metadata_size: 53687091200,
        reserved_price: 0,
        ...limits,
      }
    : {
        vercel_email: "",
        max_vector_count: 2000000,
        max_monthly_reranks: -1,
        input_enrichment_enabled: true,
        ...limits,
      };
}

/** A Vector or Search index; both carry `token`/`read_only_token`, plus their plan fields. */
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
  [planField: string]: unknown;
}

/** Plan and limit fields of the OpenAPI `QStashUser` schema. */
function qstashPlan(email: string) {
  return {
    last_plan_upgrade_time: 0,
    max_message_size: 52428800,
    max_requests_per_day: 1000000,
    max_requests_per_day_hard: 10000000,
    max_endpoints_per_topic: 1000,
    max_requests_per_second: 500,
    max_dlq_size: 2147483647,
    max_retries: 20,
    max_topics: 1000,
    max_schedules: 1000000,
    max_events_size: 100000,
    max_dlq_retention_time_milis: 2592000000,
    max_delay: 2147483647,
    max_parallelism: 10,
    max_global_parallelism: 200,
    max_queues: 1000,
    prod_pack_enabled: false,
    prometheus_enabled: "false",
    timeout: 21600,
    reserved_type: "",
    reserved_price: 0,
    created_by: email,
    deletion_time: 0,
    budget: 0,
  };
}

export interface QStashUser extends ReturnType<typeof qstashPlan> {
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

/**
 * How a database with Credential Protection answers `GET`: its credential
 * fields left out, or present and empty (Upstash does not document which).
 */
export type CredentialProtection = "omit" | "empty";

export interface EmulatorData {
  account: EmulatorAccount;
  redis: Map<string, RedisDatabase>;
  /** Databases with Credential Protection: their credentials appear only in a reset's answer. */
  credentialProtection: Map<string, CredentialProtection>;
  vector: Map<string, RestIndex>;
  search: Map<string, RestIndex>;
  qstash: Map<string, QStashUser>;
}

export type TargetKind = "redis" | "vector" | "search" | "qstash";

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

export function newRedisCredentials(): Pick<RedisDatabase, RedisCredentialField> {
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
    region: "global",
    port: 6379,
    creation_time: 1658909671,
    state: "active",
    user_email: data.account.email,
    endpoint: `eu2-emulated-${id.slice(0, 8)}.upstash.io`,
    tls: true,
    consistent: false,
    db_acl_enabled: "true",
    ...redisPlan(data.account.email, "eu-central-1"),
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
    region: kind === "vector" ? "us-east-1" : "us-central1",
    creation_time: 1753207106,
    ...indexPlan(kind),
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
    ...qstashPlan(data.account.email),
    ...newQStashCredentials(),
  };
  data.qstash.set(id, user);
  return user;
}

/** Adds a target of `kind` (a new random id unless `id` is given) and returns it. */
export function addTarget(
  data: EmulatorData,
  kind: TargetKind,
  id?: string,
): RedisDatabase | RestIndex | QStashUser {
  if (kind === "redis") return addRedis(data, id);
  if (kind === "qstash") return addQStashUser(data, id);
  return addIndex(data, kind, id);
}

/** A fresh account with one Redis database, Vector index, Search index and QStash user. */
export function freshData(account: EmulatorAccount = DEFAULT_ACCOUNT): EmulatorData {
  const data: EmulatorData = {
    account: { ...account },
    redis: new Map(),
    credentialProtection: new Map(),
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
