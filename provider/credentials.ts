import type { ManagementCredentials } from "./http/client";
import { readsStackConfig } from "./credentialSources";
import { CredentialsConfigurationError } from "./http/errors";
import { UNKNOWN_VALUE } from "./trigger";

/** One place management credentials can come from; either field may be missing. */
export interface CredentialTier {
  /** Where this tier comes from, for messages, e.g. "stack config". */
  source: string;
  /** How a user sets it, for the message when no tier is set. */
  howToSet: string;
  emailName: string;
  apiKeyName: string;
  email?: string;
  apiKey?: string;
}

/** What `configure` saw in the stack config; kept per process, read by every operation. */
export function rememberConfiguredCredentials(email?: string, apiKey?: string): void {
  const registry = globalThis as unknown as Record<string, unknown>;
  registry.__upstashCredentialRotationConfig = { email, apiKey };
}

/**
 * The three tiers in precedence order: resource inputs, then stack config
 * (`upstash:email`/`upstash:apiKey`, via the provider's `configure`), then the
 * environment (`UPSTASH_EMAIL`/`UPSTASH_API_KEY`). Read at call time, never at
 * module load, so nothing secret is captured in the serialized provider.
 */
export function credentialTiers(inputs: { email?: string; apiKey?: string }): CredentialTier[] {
  const registry = globalThis as unknown as Record<string, unknown>;
  const config = (registry.__upstashCredentialRotationConfig ?? {}) as {
    email?: string;
    apiKey?: string;
  };
  const tiers: CredentialTier[] = [
    {
      source: "resource inputs",
      howToSet: "set the email/apiKey inputs",
      emailName: "email",
      apiKeyName: "apiKey",
      email: inputs.email,
      apiKey: inputs.apiKey,
    },
    {
      source: "stack config",
      howToSet:
        "`pulumi config set upstash:email …` and `pulumi config set --secret upstash:apiKey …`",
      emailName: "upstash:email",
      apiKeyName: "upstash:apiKey",
      email: config.email,
      apiKey: config.apiKey,
    },
    {
      source: "environment",
      howToSet: "the UPSTASH_EMAIL/UPSTASH_API_KEY environment variables",
      emailName: "UPSTASH_EMAIL",
      apiKeyName: "UPSTASH_API_KEY",
      email: process.env.UPSTASH_EMAIL,
      apiKey: process.env.UPSTASH_API_KEY,
    },
  ];
  return readsStackConfig() ? tiers : tiers.filter((tier) => tier.source !== "stack config");
}

const isSet = (value: string | undefined): boolean => value !== undefined && value.trim() !== "";

/**
 * The first tier with anything set wins, and must be complete: an email from
 * one place is never paired with a key from another (as in upstash/cli).
 * Returns the credentials, or the problem in words; `pending` when the winning
 * tier holds values not known yet (preview).
 */
export function selectCredentials(
  tiers: CredentialTier[],
): { credentials: ManagementCredentials } | { problem: string; property: string } | "pending" {
  for (const tier of tiers) {
    const hasEmail = isSet(tier.email);
    const hasKey = isSet(tier.apiKey);
    if (!hasEmail && !hasKey) continue;
    if (tier.email === UNKNOWN_VALUE || tier.apiKey === UNKNOWN_VALUE) return "pending";
    if (hasEmail && hasKey) {
      return { credentials: { email: String(tier.email), apiKey: String(tier.apiKey) } };
    }
    const [given, missing] = hasEmail
      ? [tier.emailName, tier.apiKeyName]
      : [tier.apiKeyName, tier.emailName];
    return {
      property: tier.source === "resource inputs" ? missing : "apiKey",
      problem: `${given} is set in the ${tier.source} but ${missing} is not. Set both there: credentials are never combined from different places.`,
    };
  }
  return {
    property: "apiKey",
    problem: `No Upstash management credentials: ${tiers.map((tier) => tier.howToSet).join(", or ")}.`,
  };
}

/** The credentials to use now, or a `CredentialsConfigurationError`. */
export function resolveCredentials(inputs: {
  email?: string;
  apiKey?: string;
}): ManagementCredentials {
  const selected = selectCredentials(credentialTiers(inputs));
  if (selected === "pending") {
    throw new CredentialsConfigurationError("The management credentials are not known yet.");
  }
  if ("problem" in selected) throw new CredentialsConfigurationError(selected.problem);
  return selected.credentials;
}
