import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 `.cpuprofile` (as written by `node --cpu-prof`) read here. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  /** Sampled time inside the window, in ms. */
  sampledMs: number;
  /** Self time by area: a package, a node: module, a src/ folder, GC, idle, native code. */
  byArea: ProfileEntry[];
  /** Functions by self time. */
  topSelf: ProfileEntry[];
  /** The project's own functions (src/) by inclusive time: what each costs with all it calls. */
  topProjectInclusive: ProfileEntry[];
}

export interface SummarizeOptions {
  /** The repository root, to shorten paths and tell project code from dependencies. */
  root: string;
  /** Only samples between these offsets from the profile's start (ms) count. */
  window?: { fromMs: number; toMs: number };
  top?: number;
}

function relativePath(url: string, root: string): string {
  if (!url.startsWith('file://')) return url;
  const file = fileURLToPath(url);
  return file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file;
}

function areaOf(functionName: string, url: string, root: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : 'native (V8 builtins, C++ bindings)';
  if (url.startsWith('node:')) {
    const parts = url.slice('node:'.length).split('/');
    return `node:${parts[0] === 'internal' ? (parts[1] ?? 'internal').replace(/\.js$/, '') : parts[0]}`;
  }
  const file = relativePath(url, root);
  const packages = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (packages) return packages[1]!;
  const parts = file.split('/');
  return parts[0] === 'src' && parts.length > 2 ? `src/${parts[1]}` : (parts[0] ?? file);
}

function top(map: Map<string, number>, total: number, count: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, percent: Math.round((us / total) * 1000) / 10 }));
}

/** Self and inclusive time by function and by area, from a `node --cpu-prof` file. */
export function summarizeCpuProfile(file: string, options: SummarizeOptions): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const count = options.top ?? 15;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const label = (id: number) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const name = functionName === '' ? '(anonymous)' : functionName;
    if (url === '') return name;
    // tsx serves TypeScript as one transformed line: its line numbers mean nothing.
    return url.endsWith('.ts')
      ? `${name} ${relativePath(url, options.root)}`
      : `${name} ${relativePath(url, options.root)}:${lineNumber + 1}`;
  };
  const isProject = (id: number) => {
    const file = relativePath(byId.get(id)!.callFrame.url, options.root);
    return file.startsWith('src/');
  };

  const self = new Map<string, number>();
  const area = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    const ms = at / 1000;
    if (options.window && (ms < options.window.fromMs || ms > options.window.toMs)) continue;
    const id = profile.samples[i]!;
    const frame = byId.get(id)!.callFrame;
    total += delta;
    self.set(label(id), (self.get(label(id)) ?? 0) + delta);
    const where = areaOf(frame.functionName, frame.url, options.root);
    area.set(where, (area.get(where) ?? 0) + delta);
    const seen = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) {
      if (!isProject(node)) continue;
      const name = label(node);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + delta);
    }
  }
  return {
    sampledMs: Math.round(total / 1000),
    byArea: top(area, total, count),
    topSelf: top(self, total, count),
    topProjectInclusive: top(inclusive, total, count),
  };
}
