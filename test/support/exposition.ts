// A Prometheus text exposition read back as series and values, each series written `name{a="x",b="y"}` with
// its labels in name order (`name` alone without labels), whatever order the server wrote them in.
export type Exposition = Map<string, number>;

const SAMPLE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g;

export function seriesName(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, value]) => `${label}="${value}"`);
  return pairs.length > 0 ? `${name}{${pairs.join(',')}}` : name;
}

export function parseExposition(text: string): Exposition {
  const series: Exposition = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(LABEL)].map(([, label, value]) => [label, value]));
    const value =
      match[3] === '+Inf' ? Number.POSITIVE_INFINITY : match[3] === '-Inf' ? Number.NEGATIVE_INFINITY : Number(match[3]);
    series.set(seriesName(match[1], labels), value);
  }
  return series;
}

/** The value of a series, or undefined when the exposition lacks it. */
export function sampleOf(exposition: Exposition, name: string, labels?: Record<string, string>): number | undefined {
  return exposition.get(seriesName(name, labels));
}
