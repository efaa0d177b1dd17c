import type { UpstashClient } from "../http/client";
import { readLive, rotateExactlyOnce } from "./lifecycle";
import { qstashDriver } from "./qstash";
import { redisDriver } from "./redis";
import { searchDriver } from "./search";
import type { IssuedCredentials, ResetTarget, RotationRecord, TargetDriver } from "./target";
import { vectorDriver } from "./vector";

function driverFor(target: ResetTarget): TargetDriver<ResetTarget> {
  const drivers = {
    redis: redisDriver,
    vector: vectorDriver,
    search: searchDriver,
    qstash: qstashDriver,
  } as const;
  // Each driver only ever receives its own target type, picked by `type` here.
  return drivers[target.type] as TargetDriver<ResetTarget>;
}

export function describeTarget(target: ResetTarget): string {
  return driverFor(target).describe(target);
}

/** The live credentials, or `undefined` when the target is proven deleted. */
export function readTarget(
  client: UpstashClient,
  target: ResetTarget,
  record: RotationRecord,
): Promise<IssuedCredentials | undefined> {
  return readLive(driverFor(target), client, target, record);
}

/** The live credentials of a target that must exist; its 404 once the list proves it gone. */
export async function readExistingTarget(
  client: UpstashClient,
  target: ResetTarget,
  record: RotationRecord,
): Promise<IssuedCredentials> {
  // `mustExist` turns a proven absence into the API's 404, so `undefined` never comes back.
  return (await readLive(driverFor(target), client, target, record, true)) as IssuedCredentials;
}

/** Resets the credentials exactly once; `before` is a reading taken just before. */
export function rotateTarget(
  client: UpstashClient,
  target: ResetTarget,
  before: IssuedCredentials,
): Promise<IssuedCredentials> {
  return rotateExactlyOnce(driverFor(target), client, target, before);
}

export { proveAbsent, sameSecrets } from "./lifecycle";
export type {
  IssuedCredentials,
  QStashApiVersion,
  QStashSigningKeysTarget,
  QStashTarget,
  RedisTarget,
  ResetTarget,
  RotationRecord,
  RotationTarget,
  SearchTarget,
  TargetType,
  VectorTarget,
} from "./target";
export {
  AbsenceUnprovenError,
  CredentialRejectedError,
  isRotatedButUnread,
  isUnrecordedRotation,
  mayStillLand,
  ResetNotObservedError,
  ResetOutcomeUnknownError,
  RotatedButUnreadError,
  UnrecordedRotationError,
} from "./errors";
