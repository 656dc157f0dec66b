// The served OpenAPI document, linted by two tools the project did not write: Spectral (spectral:oas) and
// Redocly (recommended), with the rulesets of .spectral.yaml and redocly.yaml. No error and no warning, with
// API_TOKEN unset and set (the document states the security it configures).
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { projectRoot } from '../../../src/paths.js';
import { useTestDatabase } from '../../support/database.js';
import { startTestServer } from '../../support/server.js';
import { testFilesFolder } from '../../support/temp-files.js';

const run = promisify(execFile);
const bin = (name: string) => path.join(projectRoot, 'node_modules/.bin', name);

/** The document `env`'s server serves, in a file of its own. */
async function servedDocument(db: Parameters<typeof startTestServer>[0], env: Record<string, string>): Promise<string> {
  const server = await startTestServer(db, env);
  try {
    const file = path.join(await testFilesFolder(), `openapi-${Object.keys(env).join('-') || 'default'}.json`);
    await fs.writeFile(file, await (await fetch(`${server.url}/api/v1/openapi.json`)).text());
    return file;
  } finally {
    await server.close();
  }
}

describe('the OpenAPI document, linted', function () {
  this.timeout(120_000);
  const db = useTestDatabase();

  for (const [name, env] of [
    ['open reads', {}],
    ['API_TOKEN set', { API_TOKEN: 'api-token-0123456789' }],
  ] as const) {
    it(`passes Spectral and Redocly without an error or a warning (${name})`, async () => {
      const file = await servedDocument(db(), env);
      const spectral = await run(bin('spectral'), ['lint', '--ruleset', '.spectral.yaml', '--format', 'json', '--quiet', file], {
        cwd: projectRoot,
      }).catch((failure: { stdout: string }) => failure);
      expect(JSON.parse(spectral.stdout || '[]'), 'Spectral').to.deep.equal([]);
      const redocly = await run(bin('redocly'), ['lint', file, '--config', 'redocly.yaml', '--format', 'json'], {
        cwd: projectRoot,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      }).catch((failure: { stdout: string }) => failure);
      const report = JSON.parse(redocly.stdout);
      expect(report.problems, 'Redocly').to.deep.equal([]);
      expect(report.totals).to.include({ errors: 0, warnings: 0 });
    });
  }
});
