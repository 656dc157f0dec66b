// When the schedule runs next (the metrics' next run): the cron read on the zone's wall clock, as Bree fires it.
import { expect } from 'chai';
import { nextScheduledRun } from '../../../src/refresh/scheduler.js';

const next = (cron: string, zone: string, now: string) => nextScheduledRun(cron, zone, new Date(now))?.toISOString();

describe('nextScheduledRun', () => {
  it('reads the schedule on the time zone given, in winter and in summer', () => {
    // 02:00 in Paris is 01:00Z in winter (UTC+1), 00:00Z in summer (UTC+2); in New York 07:00Z in winter (UTC-5).
    expect(next('0 2 * * *', 'Europe/Paris', '2026-12-07T10:00:00Z')).to.equal('2026-12-08T01:00:00.000Z');
    expect(next('0 2 * * *', 'Europe/Paris', '2026-07-01T10:00:00Z')).to.equal('2026-07-02T00:00:00.000Z');
    expect(next('0 2 * * *', 'America/New_York', '2026-12-07T10:00:00Z')).to.equal('2026-12-08T07:00:00.000Z');
    expect(next('0 2 * * *', 'UTC', '2026-12-07T01:59:00Z')).to.equal('2026-12-07T02:00:00.000Z');
  });

  it('takes days of the week, and seconds when the cron has six fields', () => {
    // 2026-12-07 is a Monday: past 03:15 that day, the next Monday's.
    expect(next('15 3 * * 1', 'UTC', '2026-12-07T10:00:00Z')).to.equal('2026-12-14T03:15:00.000Z');
    expect(next('*/30 * * * * *', 'UTC', '2026-12-07T10:00:00.200Z')).to.equal('2026-12-07T10:00:30.000Z');
  });

  it('passes over an occurrence less than a second away, as the timer does', () => {
    expect(next('0 2 * * *', 'Europe/Paris', '2026-12-08T00:59:59.500Z')).to.equal('2026-12-09T01:00:00.000Z');
    expect(next('0 2 * * *', 'Europe/Paris', '2026-12-08T00:59:58.900Z')).to.equal('2026-12-08T01:00:00.000Z');
  });
});
