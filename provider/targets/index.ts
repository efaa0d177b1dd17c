import type { UpstashClient } from "../http/client";
import { qstashDriver } from "./qstash";
import { redisDriver } from "./redis";
import { searchDriver } from "./search";
import type { IssuedCredentials, RotationRecord, RotationTarget, TargetDriver } from "./target";
import { vectorDriver } from "./vector";

function driverFor(target: RotationTarget): TargetDriver<RotationTarget> {
  const drivers = {
    redis: redisDriver,
    vector: vectorDriver,
    search: searchDriver,
    qstash: qstashDriver,
  } as const;
  // Each driver only ever receives its own target type, picked by `type` here.
  return drivers[target.type] as TargetDriver<RotationTarget>;
}

export function describeTarget(target: RotationTarget): string {
  return driverFor(target).describe(target);
}

export function rotateTarget(
  client: UpstashClient,
  target: RotationTarget,
  record: RotationRecord,
): Promise<IssuedCredentials> {
  return driverFor(target).rotate(client, target, record);
}

export function readTarget(
  client: UpstashClient,
  target: RotationTarget,
  record: RotationRecord,
): Promise<IssuedCredentials | undefined> {
  return driverFor(target).read(client, target, record);
}

export type {
  IssuedCredentials,
  QStashApiVersion,
  QStashTarget,
  RedisTarget,
  RotationRecord,
  RotationTarget,
  SearchTarget,
  TargetType,
  VectorTarget,
} from "./target";
export { isRotatedButUnread, RotatedButUnreadError } from "./target";
