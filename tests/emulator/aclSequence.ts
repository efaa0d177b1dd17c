import { createHash } from "crypto";

/**
 * The multi-password rotation sequence of shared/reference/zero-downtime-research.md
 * §6, written once against an abstract backend so that the emulator's REST
 * data plane and a real Redis 7 can both run it and be compared.
 */

/** A command outcome, backend-neutral. */
export type Outcome = { result: unknown } | { error: string } | { wrongpass: true };

export interface AclBackend {
  /** A password the user may add with `>`: GENTOKEN on the emulator, plaintext on Redis. */
  password(user: string, label: string): Promise<string>;
  /** A command as the administrator (the default user). */
  admin(args: string[]): Promise<Outcome>;
  /** A command authenticated as `user` with `password`; `wrongpass` when that fails. */
  as(user: string, password: string, args: string[]): Promise<Outcome>;
}

const sha256 = (value: string): string => createHash("sha256").update(value).digest("hex");

/** Redacts the modifier that errors echo, so emulator (`'<…'`) and Redis (`'<nope'`) compare. */
const normalize = (outcome: Outcome): Outcome =>
  "error" in outcome
    ? { error: outcome.error.replace(/modifier '([<>#!])[^']*'/, "modifier '$1…'") }
    : outcome;

/** One step: a label and what was seen, in backend-neutral terms. */
export type Observation = [string, unknown];

/**
 * Runs the sequence for user `app`; answers what each step saw. Passwords are
 * named by their labels (A, B, C): which ones authenticate, and which the
 * GETUSER hashes are.
 */
export async function aclRotationSequence(backend: AclBackend): Promise<Observation[]> {
  const user = "app";
  const seen: Observation[] = [];
  const pwd: Record<string, string> = {};
  for (const label of ["A", "B", "C"]) pwd[label] = await backend.password(user, label);
  const labelOf = (hash: unknown): unknown =>
    Object.keys(pwd).find((label) => sha256(pwd[label]) === hash) ?? hash;
  const which = async (): Promise<Record<string, string>> => {
    const result: Record<string, string> = {};
    for (const label of Object.keys(pwd)) {
      const outcome = await backend.as(user, pwd[label], ["PING"]);
      result[label] = "wrongpass" in outcome ? "wrongpass" : "ok";
    }
    return result;
  };
  const getuser = async (): Promise<unknown> => {
    const outcome = await backend.admin(["ACL", "GETUSER", user]);
    if (!("result" in outcome) || !Array.isArray(outcome.result)) return outcome;
    const fields: Record<string, unknown> = {};
    const flat = outcome.result as unknown[];
    for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = flat[i + 1];
    const passwords = fields.passwords as unknown[];
    return {
      flags: fields.flags,
      passwords: passwords.map(labelOf),
      commands: fields.commands,
      keys: fields.keys,
      channels: fields.channels,
    };
  };
  const admin = async (...args: string[]): Promise<Outcome> => normalize(await backend.admin(args));
  const as = async (label: string, ...args: string[]): Promise<Outcome> =>
    normalize(await backend.as(user, pwd[label], args));

  seen.push([
    "create with A",
    await admin("ACL", "SETUSER", user, "on", `>${pwd.A}`, "~*", "&*", "+@all", "-@dangerous"),
  ]);
  seen.push(["after create", await which()]);
  seen.push(["add B", await admin("ACL", "SETUSER", user, `>${pwd.B}`)]);
  seen.push(["after add B", await which()]);
  seen.push(["add C, remove A", await admin("ACL", "SETUSER", user, `>${pwd.C}`, `<${pwd.A}`)]);
  seen.push(["after add C, remove A", await which()]);
  seen.push(["getuser", await getuser()]);
  seen.push(["remove B by hash", await admin("ACL", "SETUSER", user, `!${sha256(pwd.B)}`)]);
  seen.push(["after remove B by hash", await which()]);
  seen.push([
    "remove an absent password",
    await admin("ACL", "SETUSER", user, "<not-a-password-of-app"),
  ]);
  seen.push(["rules only", await admin("ACL", "SETUSER", user, "resetkeys", "~cache:*")]);
  seen.push(["after rules only", await which()]);
  seen.push(["getuser after rules only", await getuser()]);
  seen.push(["SET outside ~cache:*", await as("C", "SET", "other", "1")]);
  seen.push(["SET inside ~cache:*", await as("C", "SET", "cache:x", "1")]);
  seen.push(["GET inside ~cache:*", await as("C", "GET", "cache:x")]);
  seen.push(["FLUSHALL (dangerous)", await as("C", "FLUSHALL")]);
  seen.push(["ACL SETUSER as app", await as("C", "ACL", "SETUSER", "someone")]);
  seen.push(["ACL WHOAMI as app", await as("C", "ACL", "WHOAMI")]);
  seen.push(["off", await admin("ACL", "SETUSER", user, "off")]);
  seen.push(["after off", await which()]);
  seen.push(["on", await admin("ACL", "SETUSER", user, "on")]);
  seen.push(["delete the default user", await admin("ACL", "DELUSER", "default")]);
  seen.push(["delete", await admin("ACL", "DELUSER", user, "nobody")]);
  seen.push(["after delete", await which()]);
  seen.push(["getuser after delete", await getuser()]);
  return seen;
}

const NOPERM_KEYS =
  "NOPERM this user has no permissions to access one of the keys used as arguments";

/** What the sequence must see, on the emulator and on Redis 7 alike. */
export const EXPECTED_SEQUENCE: Observation[] = [
  ["create with A", { result: "OK" }],
  ["after create", { A: "ok", B: "wrongpass", C: "wrongpass" }],
  ["add B", { result: "OK" }],
  ["after add B", { A: "ok", B: "ok", C: "wrongpass" }],
  ["add C, remove A", { result: "OK" }],
  ["after add C, remove A", { A: "wrongpass", B: "ok", C: "ok" }],
  [
    "getuser",
    {
      flags: ["on"],
      passwords: ["B", "C"],
      commands: "+@all -@dangerous",
      keys: "~*",
      channels: "&*",
    },
  ],
  ["remove B by hash", { result: "OK" }],
  ["after remove B by hash", { A: "wrongpass", B: "wrongpass", C: "ok" }],
  [
    "remove an absent password",
    {
      error:
        "ERR Error in ACL SETUSER modifier '<…': The password you are trying to remove from the user does not exist",
    },
  ],
  ["rules only", { result: "OK" }],
  ["after rules only", { A: "wrongpass", B: "wrongpass", C: "ok" }],
  [
    "getuser after rules only",
    {
      flags: ["on"],
      passwords: ["C"],
      commands: "+@all -@dangerous",
      keys: "~cache:*",
      channels: "&*",
    },
  ],
  ["SET outside ~cache:*", { error: NOPERM_KEYS }],
  ["SET inside ~cache:*", { result: "OK" }],
  ["GET inside ~cache:*", { result: "1" }],
  [
    "FLUSHALL (dangerous)",
    { error: "NOPERM this user has no permissions to run the 'flushall' command" },
  ],
  [
    "ACL SETUSER as app",
    { error: "NOPERM this user has no permissions to run the 'acl|setuser' command" },
  ],
  ["ACL WHOAMI as app", { result: "app" }],
  ["off", { result: "OK" }],
  ["after off", { A: "wrongpass", B: "wrongpass", C: "wrongpass" }],
  ["on", { result: "OK" }],
  ["delete the default user", { error: "ERR The 'default' user cannot be removed" }],
  ["delete", { result: 1 }],
  ["after delete", { A: "wrongpass", B: "wrongpass", C: "wrongpass" }],
  ["getuser after delete", { result: null }],
];
