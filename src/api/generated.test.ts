import { existsSync, readFileSync } from 'node:fs';
import { generatedFiles } from './generated.js';

describe('generated files', () => {
  test.each(generatedFiles().map((f) => [f.path, f.text]))('%s is up to date (run `make generate`)', (path, text) => {
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });
});
