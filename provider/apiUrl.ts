import { CredentialsConfigurationError } from "./http/errors";

/** The Upstash Developer API, without the `/v2` prefix that every request path carries. */
export const DEFAULT_API_URL = "https://api.upstash.com";

/**
 * The base URL of the Upstash Developer API from `UPSTASH_API_URL`: trimmed,
 * without trailing slashes, and {@link DEFAULT_API_URL} when unset or blank.
 *
 * Throws a `CredentialsConfigurationError`, whose message never repeats the
 * value's userinfo, query or fragment, when the value:
 * - is not an absolute `http://` or `https://` URL;
 * - carries credentials (`user:pass@`), a query or a fragment;
 * - uses `http://` to a host other than loopback (`localhost`, `127.0.0.0/8`,
 *   `[::1]`): the management API key would travel in clear text;
 * - ends with `/v2`: request paths already start with `/v2`, so every call
 *   would go to `/v2/v2/...` (the OpenAPI file's server URL does include it).
 */
export function apiBaseUrl(value: string | undefined): string {
  const text = (value ?? "").trim();
  if (text === "") return DEFAULT_API_URL;

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CredentialsConfigurationError(
      `UPSTASH_API_URL is not a valid URL; set it to an absolute base URL such as ${DEFAULT_API_URL}, or unset it.`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CredentialsConfigurationError(
      `UPSTASH_API_URL must start with http:// or https://, not ${url.protocol}//; e.g. ${DEFAULT_API_URL}.`,
    );
  }
  if (url.username !== "" || url.password !== "" || /^[a-z]+:\/\/[^/?#]*@/i.test(text)) {
    throw new CredentialsConfigurationError(
      "UPSTASH_API_URL must not contain credentials (user:pass@): the management credentials come from the email/apiKey inputs, upstash:email/upstash:apiKey or UPSTASH_EMAIL/UPSTASH_API_KEY.",
    );
  }
  if (/[?#]/.test(text)) {
    throw new CredentialsConfigurationError(
      `UPSTASH_API_URL must not have a query or fragment (?… or #…); set only the base URL, e.g. ${DEFAULT_API_URL}.`,
    );
  }
  const host = url.hostname;
  const loopback =
    host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  if (url.protocol === "http:" && !loopback) {
    throw new CredentialsConfigurationError(
      `UPSTASH_API_URL uses http:// to ${url.host}, which would send the management API key in clear text; use https://, or http:// only to a loopback address (localhost, 127.0.0.1, [::1]).`,
    );
  }
  const path = url.pathname.replace(/\/+$/, "");
  if (/\/v2$/i.test(path)) {
    throw new CredentialsConfigurationError(
      `UPSTASH_API_URL must not include the /v2 suffix; use ${url.origin}${path.slice(0, -3)} (every request path already starts with /v2).`,
    );
  }
  return `${url.origin}${path}`;
}
