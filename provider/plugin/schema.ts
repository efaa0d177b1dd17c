/**
 * The plugin's Pulumi package schema, generated from the TypeScript
 * declarations that the dynamic provider's users see: `CredentialRotationArgs`
 * gives the inputs, the `CredentialRotation` class's declared outputs give the
 * outputs, and the target interfaces give the typed target objects. Their JSDoc
 * becomes the descriptions. Every SDK (Python, Go, C#, Java, the generated
 * TypeScript one) is generated from this schema, so adding a field to those
 * declarations is all it takes to offer it in every language.
 *
 * Reads the declarations syntactically (no type checker), so it needs only
 * the `.ts` sources and the `typescript` package, at build time.
 */
import { readdirSync, readFileSync } from "fs";
import path from "path";
import ts from "typescript";
import { CREDENTIAL_OUTPUTS } from "../common";

/** The package's name in every language, and the resource's token. */
export const PACKAGE_NAME = "upstash-rotation";
export const RESOURCE_TOKEN = `${PACKAGE_NAME}:index:CredentialRotation`;

/** Where the Go SDK lives once the repository is published; `pulumi package add` maps it locally. */
const GO_IMPORT_BASE = "github.com/upstash-rotation/pulumi-upstash-rotation/sdk/go/upstashrotation";

type Spec = Record<string, unknown>;

interface PropertySet {
  properties: Record<string, Spec>;
  required: string[];
}

/** Every declaration the provider sources hold, by name. */
type Declarations = Map<
  string,
  ts.InterfaceDeclaration | ts.TypeAliasDeclaration | ts.ClassDeclaration
>;

function declarationsIn(sourceDir: string): Declarations {
  const found: Declarations = new Map();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
        const source = ts.createSourceFile(
          file,
          readFileSync(file, "utf8"),
          ts.ScriptTarget.ES2022,
          true,
        );
        for (const statement of source.statements) {
          if (
            (ts.isInterfaceDeclaration(statement) ||
              ts.isTypeAliasDeclaration(statement) ||
              ts.isClassDeclaration(statement)) &&
            statement.name
          ) {
            found.set(statement.name.text, statement);
          }
        }
      }
    }
  };
  visit(sourceDir);
  return found;
}

/** A declaration's JSDoc as plain text: `{@link X}` becomes `X`. */
function descriptionOf(node: ts.Node): string | undefined {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = docs
    .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? "")
    .join("\n")
    .replace(/\{@link\s+([^}|\s]+)[^}]*\}/g, "$1")
    .trim();
  return text === "" ? undefined : text;
}

/** Builds the schema's types while mapping TypeScript types to schema types. */
class SchemaBuilder {
  readonly types: Record<string, Spec> = {};
  private readonly aliasesInProgress = new Set<string>();

  constructor(private readonly declarations: Declarations) {}

  /** The schema type of a TypeScript type; `optional` when it admits `undefined`. */
  typeOf(node: ts.TypeNode): { spec: Spec; optional: boolean } {
    if (ts.isUnionTypeNode(node)) {
      const members = node.types.filter((member) => !isNothing(member));
      const optional = members.length < node.types.length;
      if (members.length === 1) return { spec: this.typeOf(members[0]).spec, optional };
      if (members.every((member) => ts.isLiteralTypeNode(member))) {
        return { spec: { type: "string" }, optional };
      }
      return { spec: this.unionOf(members), optional };
    }
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword:
        return { spec: { type: "string" }, optional: false };
      // Every number this resource carries (a port, a count) is whole.
      case ts.SyntaxKind.NumberKeyword:
        return { spec: { type: "integer" }, optional: false };
      case ts.SyntaxKind.BooleanKeyword:
        return { spec: { type: "boolean" }, optional: false };
    }
    if (ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal)) {
      return { spec: { type: "string", const: node.literal.text }, optional: false };
    }
    if (ts.isArrayTypeNode(node)) {
      return {
        spec: { type: "array", items: this.typeOf(node.elementType).spec },
        optional: false,
      };
    }
    if (ts.isTypeReferenceNode(node)) {
      const wrapped = wrappedType(node);
      // `Input<T | undefined>`, `Output<T | undefined>`: what the wrapper holds may be absent.
      if (wrapped) return this.typeOf(wrapped);
      return { spec: this.referenceOf(node), optional: false };
    }
    throw new Error(
      `schema: no schema type for \`${node.getText()}\` (${ts.SyntaxKind[node.kind]})`,
    );
  }

  private referenceOf(node: ts.TypeReferenceNode): Spec {
    const name = referenceName(node);
    const args = node.typeArguments ?? [];
    if (name === "Record") {
      return { type: "object", additionalProperties: this.typeOf(args[1]).spec };
    }
    const declaration = this.declarations.get(name);
    if (!declaration) throw new Error(`schema: no declaration of \`${name}\``);
    if (ts.isTypeAliasDeclaration(declaration)) return this.aliasOf(name, declaration);
    if (ts.isInterfaceDeclaration(declaration)) return this.objectType(name, declaration);
    throw new Error(`schema: \`${name}\` is a class, not a value type`);
  }

  /** An alias that refers to itself (a JSON value such as the trigger) is any value. */
  private aliasOf(name: string, declaration: ts.TypeAliasDeclaration): Spec {
    if (this.aliasesInProgress.has(name)) throw new RecursiveAlias(name);
    this.aliasesInProgress.add(name);
    try {
      return this.typeOf(declaration.type).spec;
    } catch (error) {
      if (error instanceof RecursiveAlias && error.alias === name) {
        return { $ref: "pulumi.json#/Any" };
      }
      throw error;
    } finally {
      this.aliasesInProgress.delete(name);
    }
  }

  /** A union of target objects: one of them, told apart by their `type`. */
  private unionOf(members: readonly ts.TypeNode[]): Spec {
    const refs = members.flatMap((member) => {
      const spec = this.typeOf(member).spec;
      return Array.isArray(spec.oneOf) ? (spec.oneOf as Spec[]) : [spec];
    });
    const mapping: Record<string, string> = {};
    for (const ref of refs) {
      const token = typeof ref.$ref === "string" ? ref.$ref.replace("#/types/", "") : undefined;
      const discriminator = token ? this.types[token]?.properties : undefined;
      const kind = (discriminator as Record<string, Spec> | undefined)?.type?.const;
      if (typeof kind !== "string") {
        throw new Error("schema: a union must be of object types with a literal `type`");
      }
      mapping[kind] = ref.$ref as string;
    }
    return { oneOf: refs, discriminator: { propertyName: "type", mapping } };
  }

  /** A named object type, registered once under `upstash-rotation:index:<Name>`. */
  private objectType(name: string, declaration: ts.InterfaceDeclaration): Spec {
    const token = `${PACKAGE_NAME}:index:${name}`;
    if (!this.types[token]) {
      this.types[token] = { type: "object" }; // registered first: a type may refer to itself
      const { properties, required } = this.propertiesOf(declaration.members);
      this.types[token] = {
        type: "object",
        description: descriptionOf(declaration),
        properties,
        required,
      };
    }
    return { $ref: `#/types/${token}` };
  }

  /** The properties of an interface or a class, with their descriptions. */
  propertiesOf(
    members: ts.NodeArray<ts.TypeElement | ts.ClassElement>,
    secret: (name: string) => boolean = () => false,
  ): PropertySet {
    const properties: Record<string, Spec> = {};
    const required: string[] = [];
    for (const member of members) {
      if (!(ts.isPropertySignature(member) || ts.isPropertyDeclaration(member))) continue;
      if (!member.type || !ts.isIdentifier(member.name)) continue;
      const name = member.name.text;
      const { spec, optional } = this.typeOf(member.type);
      properties[name] = {
        ...spec,
        description: descriptionOf(member),
        ...(secret(name) ? { secret: true } : {}),
      };
      if (!optional && !member.questionToken) required.push(name);
    }
    return { properties, required };
  }
}

/** `Output` for `pulumi.Output<…>`, `RedisTarget` for `RedisTarget`. */
const referenceName = (node: ts.TypeReferenceNode): string =>
  ts.isIdentifier(node.typeName) ? node.typeName.text : node.typeName.right.text;

/** `T` of `pulumi.Input<T>` or `pulumi.Output<T>`. */
function wrappedType(node: ts.TypeReferenceNode): ts.TypeNode | undefined {
  const name = referenceName(node);
  return name === "Input" || name === "Output" ? node.typeArguments?.[0] : undefined;
}

/** `undefined` or `null` in a union: the property may be left out. */
const isNothing = (node: ts.TypeNode): boolean =>
  node.kind === ts.SyntaxKind.UndefinedKeyword ||
  (ts.isLiteralTypeNode(node) && node.literal.kind === ts.SyntaxKind.NullKeyword);

class RecursiveAlias extends Error {
  constructor(readonly alias: string) {
    super(`recursive alias ${alias}`);
  }
}

function declared<T extends ts.Node>(
  declarations: Declarations,
  name: string,
  is: (node: ts.Node) => node is T,
): T {
  const found = declarations.get(name);
  if (!found || !is(found)) throw new Error(`schema: no declaration of \`${name}\``);
  return found;
}

/**
 * The package schema, from the `.ts` sources in `sourceDir` (the `provider`
 * folder). `version` is the plugin's version.
 */
export function generateSchema(sourceDir: string, version: string): Spec {
  const declarations = declarationsIn(sourceDir);
  const builder = new SchemaBuilder(declarations);
  const secret = (name: string) => (CREDENTIAL_OUTPUTS as readonly string[]).includes(name);
  const args = declared(declarations, "CredentialRotationArgs", ts.isInterfaceDeclaration);
  const resource = declared(declarations, "CredentialRotation", ts.isClassDeclaration);
  const inputs = builder.propertiesOf(args.members, secret);
  const outputs = builder.propertiesOf(
    ts.factory.createNodeArray(
      resource.members.filter(
        (member) =>
          ts.isPropertyDeclaration(member) &&
          (ts.getModifiers(member) ?? []).some((m) => m.kind === ts.SyntaxKind.DeclareKeyword),
      ),
    ),
    secret,
  );
  return {
    name: PACKAGE_NAME,
    displayName: "Upstash credential rotation",
    version,
    description:
      "Rotates Upstash Redis, Vector, Search and QStash credentials and exposes the new ones as secret outputs.",
    keywords: ["upstash", "redis", "qstash", "vector", "credential-rotation", "category/database"],
    license: "Apache-2.0",
    language: {
      nodejs: { packageName: "pulumi-upstash-rotation", respectSchemaVersion: true },
      python: { packageName: "pulumi_upstash_rotation", respectSchemaVersion: true },
      go: {
        importBasePath: GO_IMPORT_BASE,
        rootPackageName: "upstashrotation",
        respectSchemaVersion: true,
      },
      csharp: {
        rootNamespace: "Pulumi",
        namespaces: { [PACKAGE_NAME]: "UpstashRotation" },
        respectSchemaVersion: true,
      },
      java: { basePackage: "com.pulumi", packages: { [PACKAGE_NAME]: "upstashrotation" } },
    },
    config: {},
    provider: { description: "The upstash-rotation provider. It takes no configuration." },
    types: builder.types,
    resources: {
      [RESOURCE_TOKEN]: {
        description: descriptionOf(resource),
        inputProperties: inputs.properties,
        requiredInputs: inputs.required,
        properties: outputs.properties,
        required: outputs.required,
      },
    },
  };
}
