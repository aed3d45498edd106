// A small Prometheus registry: counters, gauges and histograms with labels, rendered as the text
// exposition format by hand. createMetrics() returns a fresh registry, so two apps in one process
// never share a series. Any module can register its own families on the registry it is given; a
// family whose value lives elsewhere (a queue length, a row count) passes `collect`, which runs
// just before each scrape and sets the current value.

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export type FamilyOptions<Made> = {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** Runs before every render, to bring the family's values up to date. */
  collect?: (family: Made) => void | Promise<void>;
};

export type Counter = { inc(labels?: Labels, amount?: number): void };
export type Gauge = { set(labels: Labels, value: number): void };
export type Histogram = { observe(labels: Labels, value: number): void };

export type Metrics = {
  counter(options: FamilyOptions<Counter>): Counter;
  gauge(options: FamilyOptions<Gauge>): Gauge;
  /** `buckets` are the finite upper bounds, ascending; the `+Inf` bucket is always added. */
  histogram(options: FamilyOptions<Histogram> & { buckets: readonly number[] }): Histogram;
  render(): Promise<string>;
};

type Family = {
  collect: () => void | Promise<void>;
  lines: () => string[];
};

type FamilyHeader = Pick<FamilyOptions<unknown>, 'name' | 'help' | 'labelNames'>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function createMetrics(): Metrics {
  const families = new Map<string, Family>();

  function register(header: FamilyHeader, type: string, family: Family): void {
    const { name, help, labelNames = [] } = header;
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    if (families.has(name)) throw new Error(`metric ${name} is already registered`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__') || label === 'le') throw new Error(`invalid label name ${label} on ${name}`);
    }
    const lines = () => [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`, ...family.lines()];
    families.set(name, { collect: family.collect, lines });
  }

  function scalar<Made>(options: FamilyOptions<Made>, type: 'counter' | 'gauge', make: (find: (labels: Labels) => { value: number }) => Made): Made {
    const { name, labelNames = [] } = options;
    const series = seriesOf(name, labelNames, () => ({ value: 0 }));
    const made = make(series.get);
    register(options, type, {
      collect: () => options.collect?.(made),
      lines: () => series.all().map(([values, s]) => `${name}${labelText(labelNames, values)} ${formatValue(s.value)}`),
    });
    return made;
  }

  return {
    counter(options) {
      return scalar(options, 'counter', (find) => ({
        inc(labels = {}, amount = 1) {
          if (!(amount >= 0)) throw new Error(`counter ${options.name} can only go up`);
          find(labels).value += amount;
        },
      }));
    },

    gauge(options) {
      return scalar(options, 'gauge', (find) => ({
        set(labels, value) {
          find(labels).value = value;
        },
      }));
    },

    histogram(options) {
      const { name, buckets, labelNames = [] } = options;
      if (buckets.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= (buckets[i - 1] as number)))) {
        throw new Error(`histogram ${name} needs finite, strictly ascending buckets`);
      }
      // Counts are kept per bucket and made cumulative when rendered.
      const series = seriesOf(name, labelNames, () => ({ counts: buckets.map(() => 0), sum: 0, count: 0 }));
      const histogram: Histogram = {
        observe(labels, value) {
          const s = series.get(labels);
          const index = buckets.findIndex((bound) => value <= bound);
          if (index !== -1) s.counts[index] = (s.counts[index] as number) + 1;
          s.sum += value;
          s.count += 1;
        },
      };
      const bucketLabelNames = [...labelNames, 'le'];
      register(options, 'histogram', {
        collect: () => options.collect?.(histogram),
        lines: () =>
          series.all().flatMap(([values, s]) => {
            let cumulative = 0;
            const bucketLines = buckets.map((bound, i) => {
              cumulative += s.counts[i] as number;
              return `${name}_bucket${labelText(bucketLabelNames, [...values, formatValue(bound)])} ${cumulative}`;
            });
            return [
              ...bucketLines,
              `${name}_bucket${labelText(bucketLabelNames, [...values, '+Inf'])} ${s.count}`,
              `${name}_sum${labelText(labelNames, values)} ${formatValue(s.sum)}`,
              `${name}_count${labelText(labelNames, values)} ${s.count}`,
            ];
          }),
      });
      return histogram;
    },

    async render() {
      for (const family of families.values()) await family.collect();
      return [...families.values()].flatMap((family) => family.lines()).join('\n') + '\n';
    },
  };
}

/**
 * The series of one family, keyed by label values, created on first use. get() runs several times
 * per request, so it builds one string and nothing else: each value prefixed by its length, which
 * no two different lists of values share.
 */
function seriesOf<S>(name: string, labelNames: readonly string[], create: () => S) {
  const series = new Map<string, [string[], S]>();
  return {
    get(labels: Labels): S {
      let given = 0;
      for (const label in labels) if (Object.hasOwn(labels, label)) given++;
      // A label missing or extra: valuesOf throws, naming them.
      if (given !== labelNames.length) valuesOf(name, labelNames, labels);
      let key = '';
      for (const label of labelNames) {
        const value = labels[label];
        if (value === undefined) valuesOf(name, labelNames, labels);
        key += `${String(value).length}:${String(value)}`;
      }
      let entry = series.get(key);
      if (entry === undefined) {
        entry = [valuesOf(name, labelNames, labels), create()];
        series.set(key, entry);
      }
      return entry[1];
    },
    all: () => [...series.values()],
  };
}

// Label values must match the family's label names exactly: a missing or extra label is a
// programming error that would otherwise produce series no dashboard can join.
function valuesOf(name: string, labelNames: readonly string[], labels: Labels): string[] {
  const given = Object.keys(labels);
  if (given.length !== labelNames.length || !labelNames.every((label) => Object.hasOwn(labels, label))) {
    throw new Error(`metric ${name} takes labels [${labelNames.join(', ')}], got [${given.join(', ')}]`);
  }
  return labelNames.map((label) => labels[label] as string);
}

function labelText(labelNames: readonly string[], labelValues: readonly string[]): string {
  if (labelNames.length === 0) return '';
  return `{${labelNames.map((label, i) => `${label}="${escapeLabelValue(labelValues[i] as string)}"`).join(',')}}`;
}

/** The exposition format's escapes for label values: backslash, double quote and line feed. */
function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

function escapeHelp(help: string): string {
  return help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return Number.isNaN(value) ? 'NaN' : String(value);
}
