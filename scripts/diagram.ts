// npm run diagram: writes schema.dot from the migrated database and renders schema.pdf with Graphviz.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { runCommand } from '../src/cli/command.js';
import { schemaDot } from '../src/db/schema-diagram.js';
import { projectRoot } from '../src/paths.js';

await runCommand(async ({ db }) => {
  const dotFile = path.join(projectRoot, 'schema.dot');
  await fs.writeFile(dotFile, await schemaDot(db.pool));
  try {
    await promisify(execFile)('dot', ['-Tpdf', dotFile, '-o', path.join(projectRoot, 'schema.pdf')]);
  } catch (error) {
    throw new Error(`rendering needs Graphviz's dot (Debian: apt-get install graphviz): ${(error as Error).message}`);
  }
  console.log('wrote schema.dot and schema.pdf');
  return 0;
});
