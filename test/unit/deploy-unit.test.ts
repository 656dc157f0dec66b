// The systemd unit that docs/deploy.md points to: valid for systemd, and stopping the service the way the
// service expects (SIGTERM to node alone, more time than the refresh grace period before SIGKILL).
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { readConfig } from '../../src/config.js';

const UNIT = 'docs/deploy/sales-analytics.service';

/** The unit's sections as key -> value (each key appears once in this unit). */
function parseUnit(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const line of text.split('\n').map((raw) => raw.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      current = sections[section[1]] = {};
      continue;
    }
    const [, key, value] = /^(\w+)=(.*)$/.exec(line) ?? [];
    expect(key, `a key=value line in a section: ${line}`).to.be.a('string');
    expect(current, `${line} is inside a section`).to.not.equal(undefined);
    current![key] = value;
  }
  return sections;
}

describe('the systemd unit in docs/deploy', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));

  it('runs node on the compiled entry point as the main process and signals it alone', () => {
    expect(unit.Service).to.include({
      Type: 'exec',
      ExecStart: '/usr/bin/node dist/src/cli/start.js',
      KillMode: 'mixed',
      KillSignal: 'SIGTERM',
    });
    expect(unit.Install.WantedBy).to.equal('multi-user.target');
  });

  it('waits longer than the default SHUTDOWN_GRACE_MS before it kills', () => {
    const graceSeconds = readConfig({}).refresh.shutdownGraceMs / 1000;
    expect(Number(unit.Service.TimeoutStopSec)).to.be.at.least(graceSeconds + 10);
  });
});
