// A strict parser for the Prometheus text exposition format (version 0.0.4), used to validate every
// line of a scrape: it throws, naming the line, on anything a scraper would reject and on anything
// this service promises not to do (a family without HELP and TYPE, interleaved families, duplicate
// series, non-cumulative histogram buckets, a `+Inf` bucket that differs from `_count`).

export type Sample = { name: string; labels: Record<string, string>; value: number };
export type MetricFamily = { name: string; help: string | undefined; type: string | undefined; samples: Sample[] };
export type Exposition = Map<string, MetricFamily>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const families: Exposition = new Map();
  const seriesSeen = new Set<string>();
  let current: MetricFamily | undefined;

  for (const [index, line] of text.slice(0, -1).split('\n').entries()) {
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta !== null) {
      const [, keyword, name, rest] = meta as unknown as [string, 'HELP' | 'TYPE', string, string];
      if (!METRIC_NAME.test(name)) fail('invalid metric name');
      if (current?.name !== name) {
        if (families.has(name)) fail('a family must be contiguous');
        current = { name, help: undefined, type: undefined, samples: [] };
        families.set(name, current);
      }
      if (current.samples.length > 0) fail(`${keyword} after samples`);
      if (keyword === 'HELP') {
        if (current.help !== undefined) fail('second HELP');
        current.help = unescapeHelp(rest, fail);
      } else {
        if (current.type !== undefined) fail('second TYPE');
        if (!TYPES.has(rest)) fail('unknown type');
        current.type = rest;
      }
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') fail('unexpected comment or blank line');

    const sample = parseSample(line, fail);
    if (current === undefined || !belongsTo(sample.name, current)) fail('sample outside its family');
    const family = current as MetricFamily;
    if (family.help === undefined || family.type === undefined) fail('sample before HELP and TYPE');
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seriesSeen.has(key)) fail('duplicate series');
    seriesSeen.add(key);
    if (family.type === 'counter' && !(sample.value >= 0)) fail('a counter must be a non-negative number');
    family.samples.push(sample);
  }

  for (const family of families.values()) {
    if (family.help === undefined || family.type === undefined) throw new Error(`${family.name}: HELP and TYPE are both required`);
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

/** The value of one series, or undefined when the exposition does not have it. */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = exposition.get(name) ?? exposition.get(name.replace(/_(bucket|sum|count)$/, ''));
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return family?.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value;
}

function belongsTo(sampleName: string, family: MetricFamily): boolean {
  if (family.type === 'histogram') return ['_bucket', '_sum', '_count'].some((suffix) => sampleName === family.name + suffix);
  if (family.type === 'summary') return [family.name, `${family.name}_sum`, `${family.name}_count`].includes(sampleName);
  return sampleName === family.name;
}

function parseSample(line: string, fail: (why: string) => never): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (nameMatch === null) fail('invalid metric name');
  const name = (nameMatch as RegExpExecArray)[0];
  let position = name.length;
  const labels: Record<string, string> = Object.create(null);

  if (line[position] === '{') {
    position++;
    while (line[position] !== '}') {
      const labelMatch = /^[^=]*/.exec(line.slice(position)) as RegExpExecArray;
      const labelName = labelMatch[0];
      if (!LABEL_NAME.test(labelName)) fail(`invalid label name ${JSON.stringify(labelName)}`);
      if (Object.hasOwn(labels, labelName)) fail(`label ${labelName} repeated`);
      position += labelName.length;
      if (line.slice(position, position + 2) !== '="') fail('a label value must be quoted');
      position += 2;
      let value = '';
      for (;;) {
        const char = line[position];
        if (char === undefined) fail('unterminated label value');
        if (char === '"') break;
        if (char === '\\') {
          const escaped = line[position + 1];
          if (escaped === '\\' || escaped === '"') value += escaped;
          else if (escaped === 'n') value += '\n';
          else fail('invalid escape in label value');
          position += 2;
        } else {
          value += char;
          position++;
        }
      }
      labels[labelName] = value;
      position++;
      if (line[position] === ',') position++;
      else if (line[position] !== '}') fail('labels must be separated by commas');
    }
    position++;
  }

  const fields = line.slice(position).split(' ');
  if (fields[0] !== '' || fields.length < 2 || fields.length > 3) fail('expected one space, a value and an optional timestamp');
  const value = parseValue(fields[1] as string, fail);
  if (fields[2] !== undefined && !/^-?\d+$/.test(fields[2])) fail('invalid timestamp');
  return { name, labels: { ...labels }, value };
}

function parseValue(text: string, fail: (why: string) => never): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!FLOAT.test(text)) fail(`invalid value ${JSON.stringify(text)}`);
  return Number(text);
}

function unescapeHelp(text: string, fail: (why: string) => never): string {
  return text.replace(/\\(.?)/g, (_, escaped: string) => {
    if (escaped === '\\') return '\\';
    if (escaped === 'n') return '\n';
    return fail('invalid escape in HELP');
  });
}

/** Per label set: ascending `le` ending in `+Inf`, cumulative counts, `+Inf` = `_count`, a `_sum`. */
function checkHistogram(family: MetricFamily): void {
  const groups = new Map<string, { buckets: Sample[]; sum?: Sample; count?: Sample }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      group.buckets.push(sample);
    } else if (le !== undefined) {
      throw new Error(`${family.name}: le on ${sample.name}`);
    } else if (sample.name.endsWith('_sum')) {
      group.sum = sample;
    } else {
      group.count = sample;
    }
  }
  for (const [key, { buckets, sum, count }] of groups) {
    const where = `${family.name}${key}`;
    if (sum === undefined || count === undefined) throw new Error(`${where}: _sum and _count are required`);
    const bounds = buckets.map((b) => parseValue(b.labels.le as string, (why) => { throw new Error(`${where}: ${why}`); }));
    if (bounds.at(-1) !== Infinity) throw new Error(`${where}: the last bucket must be le="+Inf"`);
    for (let i = 1; i < buckets.length; i++) {
      if (!((bounds[i] as number) > (bounds[i - 1] as number))) throw new Error(`${where}: le must ascend`);
      if (!((buckets[i] as Sample).value >= (buckets[i - 1] as Sample).value)) throw new Error(`${where}: buckets must be cumulative`);
    }
    if ((buckets.at(-1) as Sample).value !== count.value) throw new Error(`${where}: the +Inf bucket must equal _count`);
  }
}
