// Writes every generated file (CRDs, RBAC, chart copies). Run through `make generate`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generatedFiles } from './generated.js';

const files = generatedFiles();
for (const { path, text } of files) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
console.log(`wrote ${files.length} generated files`);
