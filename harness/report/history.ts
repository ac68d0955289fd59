// results/history.jsonl: one line per complete run (never per shard). The previous run is the last
// line whose summary.json still exists; unreadable lines are skipped, not fatal.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryLine, Summary } from './record.ts';

export function readHistory(root: string): HistoryLine[] {
  const path = join(root, 'history.jsonl');
  if (!existsSync(path)) return [];
  const out: HistoryLine[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const h = JSON.parse(line) as HistoryLine;
      if (typeof h.runId === 'string' && typeof h.total === 'number') out.push(h);
    } catch {
      // a torn or foreign line: ignore it
    }
  }
  return out;
}

export function previousSummary(root: string, history: HistoryLine[], runId: string): Summary | null {
  for (let i = history.length - 1; i >= 0; i--) {
    if (history[i].runId === runId) continue;
    const p = join(root, history[i].runId, 'summary.json');
    if (!existsSync(p)) continue;
    try {
      const s = JSON.parse(readFileSync(p, 'utf8')) as Summary;
      if (s.format === 'migcompat-summary' && Array.isArray(s.cases)) return s;
    } catch {
      // damaged summary: look further back
    }
  }
  return null;
}
