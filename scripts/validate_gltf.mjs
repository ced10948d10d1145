// Validates glTF/GLB files with the Khronos glTF validator (the npm package in node_modules).
// Usage: node scripts/validate_gltf.mjs FILE...
// Prints one JSON report per line, in argument order; exits 1 when any file has errors.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { validateBytes } from 'gltf-validator';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node scripts/validate_gltf.mjs FILE...');
  process.exit(2);
}
let failed = false;
for (const file of files) {
  const report = await validateBytes(new Uint8Array(await readFile(file)), {
    uri: basename(file),
    maxIssues: 0,
  });
  console.log(JSON.stringify(report));
  failed ||= report.issues.numErrors > 0;
}
process.exit(failed ? 1 : 0);
