// Types of periods.js for the mocha tests, which import the browser module as it is served.
export interface Range {
  from: string;
  to: string;
}
export interface DashboardState {
  range: string;
  interval: string;
  top: string;
  category: string;
  region: string;
  from?: string;
  to?: string;
}
export const PRESETS: { id: string; label: string }[];
export function presetRange(
  preset: string,
  bounds: { first: string; last: string },
  custom?: { from?: string; to?: string },
): Range;
export function previousRange(range: Range): Range;
export function readState(search: string): DashboardState;
export function writeState(state: DashboardState): string;
