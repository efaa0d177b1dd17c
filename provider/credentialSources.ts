/**
 * The places management credentials come from, in precedence order, and how
 * every message names them. The provider plugin reads no provider
 * configuration (the Node provider server ignores it, pulumi/pulumi#10915),
 * so for it there is no stack-config source, and no message may send its
 * users there. Kept free of imports: the HTTP errors and the credential
 * precedence both read it.
 */
const REGISTRY_KEY = "__upstashCredentialRotationNoStackConfig";

/** One place management credentials can come from. */
export interface CredentialSource {
  /** Where it is, for messages about a half-set pair, e.g. "stack config". */
  source: "resource inputs" | "stack config" | "environment";
  /** How a user sets it, for the message when no source is set. */
  howToSet: string;
  /** How a message that lists every source names it. */
  named: string;
  emailName: string;
  apiKeyName: string;
}

const SOURCES: readonly CredentialSource[] = [
  {
    source: "resource inputs",
    howToSet: "set the email/apiKey inputs",
    named: "the email/apiKey inputs",
    emailName: "email",
    apiKeyName: "apiKey",
  },
  {
    source: "stack config",
    howToSet:
      "`pulumi config set upstash:email …` and `pulumi config set --secret upstash:apiKey …`",
    named: "upstash:email/upstash:apiKey stack config",
    emailName: "upstash:email",
    apiKeyName: "upstash:apiKey",
  },
  {
    source: "environment",
    howToSet: "the UPSTASH_EMAIL/UPSTASH_API_KEY environment variables",
    named: "UPSTASH_EMAIL/UPSTASH_API_KEY",
    emailName: "UPSTASH_EMAIL",
    apiKeyName: "UPSTASH_API_KEY",
  },
];

/** Declares that this process serves the plugin: there is no stack-config source. */
export function withoutStackConfigTier(): void {
  (globalThis as Record<string, unknown>)[REGISTRY_KEY] = true;
}

/** The sources this front door reads, in precedence order. */
export function credentialSourceList(): readonly CredentialSource[] {
  const readsStackConfig = (globalThis as Record<string, unknown>)[REGISTRY_KEY] !== true;
  return readsStackConfig ? SOURCES : SOURCES.filter((s) => s.source !== "stack config");
}

/** Every source this front door reads, as one phrase ("A, B, or C"). */
export function credentialSources(): string {
  return new Intl.ListFormat("en", { type: "disjunction" }).format(
    credentialSourceList().map((source) => source.named),
  );
}
