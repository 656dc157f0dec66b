// The Prometheus alerting rules and sample configuration in docs/deploy/prometheus: valid for promtool, their
// unit tests passing, and a firing case tested for every alert.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { projectRoot } from '../../../src/paths.js';

const run = promisify(execFile);

const DIR = 'docs/deploy/prometheus';
const RULES = `${DIR}/alerts.yml`;
const RULE_TESTS = `${DIR}/alerts.test.yml`;
const CONFIG = `${DIR}/prometheus.yml`;

/** Runs promtool in the project root; fails the test with its output unless it exits 0. */
async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: projectRoot });
    return stdout + stderr;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') {
      expect.fail("promtool is not on PATH: install Debian's prometheus package (apt-get install prometheus)");
    }
    return expect.fail(`promtool ${args.join(' ')} exited ${failure.code}:\n${failure.stdout}${failure.stderr}`);
  }
}

const read = (file: string) => readFileSync(path.join(projectRoot, file), 'utf8');

/** The alerts' names, from their `- alert: Name` lines. */
function alertNames(rules: string): string[] {
  return [...rules.matchAll(/^\s*- alert:\s*(\w+)\s*$/gm)].map((match) => match[1]);
}

/** Each alert_rule_test case (an `- eval_time:` item): the alert it is about and whether it expects it firing. */
function ruleTestCases(tests: string): { alertname: string; fires: boolean }[] {
  return tests
    .split(/^\s*- eval_time:/m)
    .slice(1)
    .map((item) => {
      const [, alertname] = /^\s*alertname:\s*(\w+)\s*$/m.exec(item) ?? [];
      const [, expected] = /^\s*exp_alerts:(.*)$/m.exec(item) ?? [];
      expect(alertname, `an alertname in the case at eval_time:${item.split('\n')[0]}`).to.be.a('string');
      expect(expected, `exp_alerts in the case at eval_time:${item.split('\n')[0]}`).to.be.a('string');
      return { alertname, fires: !/^\s*\[\s*\]/.test(expected) };
    });
}

describe('the Prometheus alerting rules in docs/deploy/prometheus', () => {
  it('pass promtool check rules', async () => {
    expect(await promtool('check', 'rules', RULES)).to.include('SUCCESS');
  });

  it('pass their promtool unit tests', async () => {
    expect(await promtool('test', 'rules', RULE_TESTS)).to.include('SUCCESS');
  });

  it('the sample prometheus.yml passes promtool check config', async () => {
    expect(await promtool('check', 'config', CONFIG)).to.include('SUCCESS');
  });

  it('every alert has a case where it fires and one where it must not, and every case names an alert', () => {
    const names = alertNames(read(RULES));
    expect(names, 'alerts in alerts.yml').to.have.length.above(0);
    const cases = ruleTestCases(read(RULE_TESTS));
    // promtool passes `exp_alerts: []` for an alert that does not exist, so a misspelt name would test nothing.
    expect(cases.map((test) => test.alertname).filter((name) => !names.includes(name))).to.deep.equal([]);
    const firing = new Set(cases.filter((test) => test.fires).map((test) => test.alertname));
    const silent = new Set(cases.filter((test) => !test.fires).map((test) => test.alertname));
    const neverFiring = names.filter((name) => !firing.has(name));
    const neverSilent = names.filter((name) => !silent.has(name));
    expect(neverFiring, 'alerts with no firing case').to.deep.equal([]);
    expect(neverSilent, 'alerts with no exp_alerts: [] case').to.deep.equal([]);
  });
});
