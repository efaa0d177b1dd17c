// The plugin's entry: the engine starts it with its own address as the argument.
// bin/ and schema.json are built by this folder's install step (package.json "postinstall").
const path = require("path");
const { serve } = require("./bin/provider/plugin/main");

serve(
  require("./package.json").version,
  path.join(__dirname, "schema.json"),
  process.argv.slice(2),
);
