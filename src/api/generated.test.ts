import { existsSync, readFileSync } from 'node:fs';
import { generatedFiles } from './generated.js';

const root = new URL('../../', import.meta.url);

describe('generated files', () => {
  test.each(generatedFiles().map((f) => [f.path, f.text]))('%s is up to date (run `make generate`)', (path, text) => {
    const file = new URL(path, root);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});
