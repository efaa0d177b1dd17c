export { CredentialRotation, type CredentialRotationArgs } from "./credentialRotation";
export {
  credentialRotationProvider,
  CREDENTIAL_OUTPUTS,
  type RotationState,
} from "./rotationProvider";
export type { OnDelete, RotationInputs, InputFailure } from "./inputs";
export { DEFAULT_ACL_RULES } from "./inputs";
export { DataPlaneError, type DataPlaneErrorCode } from "./dataPlane/client";
export { AclUnavailableError } from "./modes/redisAcl";
export type { AclPasswords } from "./common";
export { rotationWindow, type RotationWindowOptions } from "./rotationWindow";
export { canonicalJson, triggerFingerprint, type TriggerValue } from "./trigger";
export type {
  IssuedCredentials,
  QStashApiVersion,
  QStashSigningKeysTarget,
  QStashTarget,
  RedisTarget,
  ResetTarget,
  RotationTarget,
  SearchTarget,
  TargetType,
  VectorTarget,
} from "./targets";
export {
  AbsenceUnprovenError,
  CredentialRejectedError,
  isRotatedButUnread,
  isUnrecordedRotation,
  ResetNotObservedError,
  ResetOutcomeUnknownError,
  RotatedButUnreadError,
  UnrecordedRotationError,
} from "./targets";
export {
  UpstashApiError,
  UpstashAuthError,
  UpstashNotFoundError,
  UpstashRateLimitError,
  UpstashRequestError,
  UpstashResponseError,
  UpstashUnavailableError,
  CredentialsConfigurationError,
  hasUpstashCode,
  type UpstashErrorCode,
} from "./http/errors";
export {
  UpstashClient,
  type ManagementCredentials,
  type UpstashClientOptions,
} from "./http/client";
