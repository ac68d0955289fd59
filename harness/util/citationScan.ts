// The citation scan: every text file of the repository (whatever its format: the rules read lines,
// not YAML or TypeScript) is checked for citations that do not resolve (docs/reference.md#how-to-cite).
// A problem names file:line, the citation as written and why it fails. Files are the ones git tracks
// plus untracked files not ignored, so a new file is scanned before it is committed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { COMMIT_ID, MESSAGE_ID, REPO_ROOT, headingSlug, markdownAnchors, parseCitation } from './citations.ts';
import { MissingDependencyError, UsageError } from './usage-error.ts';

export interface CitationProblem {
  file: string;
  line: number;
  /** the text as written */
  citation: string;
  reason: string;
}

/** What the scan needs to know about the repository: its files and their anchors. */
export interface RepoView {
  /** a file or folder at this repository-relative path */
  has(path: string): boolean;
  /** the heading anchors of a Markdown file (null: not a Markdown file of the repository) */
  anchors(path: string): Set<string> | null;
  /** top-level folders: a path starting with one of them is a repository path */
  topLevel: Set<string>;
}

// Pieces are joined at run time so that this file does not contain what it forbids.
const j = (...parts: string[]): string => parts.join('');
const OUTSIDE_FILE = 'docs that do not ship with the product cannot be cited; cite docs/reference.md#<heading> or an upstream id';

/** Text that points outside the product, with the reason given. */
const FORBIDDEN: { re: RegExp; reason: string }[] = [
  { re: new RegExp(j('(?:\\S*/)?hisi-acc-', 'migration(?:\\.md)?\\S*'), 'g'), reason: OUTSIDE_FILE },
  { re: new RegExp(j('\\S*\\.\\./', 'shared\\b\\S*'), 'g'), reason: OUTSIDE_FILE },
  { re: new RegExp(j('\\S*\\bshared/', 'reference\\b\\S*'), 'g'), reason: OUTSIDE_FILE },
  { re: new RegExp(j('/work/', 'shared\\S*'), 'g'), reason: OUTSIDE_FILE },
  { re: new RegExp(j('\\b(?:tool', 'chain|anc', 'hors|qemu-', 'e2e)\\.md\\b'), 'g'), reason: OUTSIDE_FILE },
  { re: new RegExp(j('\\btool', 'chain notes\\b'), 'g'), reason: OUTSIDE_FILE },
  // source tags of a reference file that is not ours
  {
    re: new RegExp(j('\\b(?:K', '61|T-', 'orig|T-', 'pc|G-', 'new|RS-', 'hdr|UAPI-', 'new|VM-', 'pc|Q-', 'mig|Q-', 'savevm|CA', 'LC)\\b|\\[M', 'L\\b|\\[(?:ANAL', 'YSIS|UNCER', 'TAIN)\\]'), 'g'),
    reason: 'a source tag of a document that does not ship; cite docs/reference.md#sources-and-confidence or an upstream id',
  },
  // the word "reference" followed by a section letter, "row", "table", "summary", "layout": sections of a
  // file that is not ours
  {
    re: new RegExp(j('\\brefer', "ence(?:'s)?\\s+(?:[A-H]\\b(?:\\.\\d+)?|§|sections?\\b|tables?\\b|rows?\\b|summary\\b|layout\\b)"), 'g'),
    reason: 'a section of a document that does not ship; cite docs/reference.md#<heading>',
  },
  // a capital A to H, a dot and a number, optionally "#n" or "step n" after it: a bare section code
  {
    re: /(?<![\p{L}\p{N}_.\/\\-])[A-H]\.\d{1,2}(?:\s*(?:#|step\s+)\d+)?(?![\p{L}\p{N}_]|\.\d)/gu,
    reason: 'a bare section code; cite docs/reference.md#<heading-slug>',
  },
  { re: /§\s*[\dA-Z][\w.]*/gu, reason: 'a section number; cite docs/reference.md#<heading-slug>' },
];

/** A Markdown path followed by a quoted heading title: not machine-checkable, cite the slug instead. */
const QUOTED_HEADING = /(?<![\w/.-])((?:[\w.-]+\/)*[\w.-]+\.md)[ ,]+"([^"\n]+)"/g;
/** A Markdown path, with an optional fragment. */
const MD_TOKEN = /(?<![\w/.\\-])((?:\.{1,2}\/)*(?:[\w.-]+\/)*[\w.-]+\.md)(?:#([\p{L}\p{M}\p{N}_-]*))?(?![\w#])/gu;
/** Inline links and link definitions of Markdown files. */
const MD_LINK = /\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const MD_LINK_DEF = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/;
const COMMIT_WORD = /\bcommit\s+([0-9a-fA-F]{7,}\w*)(?:\s*\(([^)\n]*)\))?/g;
/** `lore` and something shaped like a message id (a regular expression's source is not one). */
const LORE_WORD = /\blore[: ]+<?([\w.+=%$~-]+@[^\s<>`'"),;]+)>?/g;
const KERNEL_URL = /git\.kernel\.org\/linus\/([^\s)>"'`\],;]*)/g;
const LORE_URL = /lore\.kernel\.org\/r\/([^\s)>"'`\],;]*)/g;
/**
 * The one way to show the scanner bad citations on purpose (its own spec's test data): lines from one
 * holding OFF to one holding ON are not read. Each region is reported (`ScanResult.exempt`), and the
 * citations spec fails if any file but itself has one.
 */
export const SCAN_OFF = j('citation-scan', ': off');
export const SCAN_ON = j('citation-scan', ': on');
/** `${…}`, `<…>`: a template or a placeholder, not a written id. */
const PLACEHOLDER = /^(?:\$|<|\{|…|$)/;

/** Why a path is meant as a repository path (and must exist) rather than a file name in prose. */
function isRepoPath(path: string, fragment: string | undefined, repo: RepoView): boolean {
  if (fragment !== undefined) return true;
  if (path.startsWith('./') || path.startsWith('../')) return true;
  const first = path.split('/')[0];
  if (path.includes('/') && repo.topLevel.has(first)) return true;
  return /^[A-Z][A-Z0-9_-]*\.md$/.test(path);
}

/** Resolve a Markdown path from the root, then from the citing file's folder. */
function resolveMd(path: string, file: string, repo: RepoView, fileRelativeOnly: boolean): string | null {
  const fromFile = posix.normalize(posix.join(posix.dirname(file), path));
  const candidates = fileRelativeOnly ? [fromFile] : [posix.normalize(path), fromFile];
  return candidates.find((c) => !c.startsWith('../') && repo.has(c)) ?? null;
}

function checkAnchor(target: string, fragment: string, repo: RepoView): string | null {
  const anchors = repo.anchors(target);
  if (!anchors) return `${target} has no headings to link to`;
  if (anchors.has(fragment)) return null;
  const near = [...anchors].filter((a) => a.split('-')[0] === fragment.split('-')[0]).slice(0, 3);
  return `no heading '#${fragment}' in ${target}${near.length ? ` (headings there: ${near.join(', ')}…)` : ''}`;
}

/** Problems of one file's text. `file` is its repository-relative path (forward slashes). */
export function scanText(file: string, text: string, repo: RepoView, exempt: ExemptRegion[] = []): CitationProblem[] {
  const out: CitationProblem[] = [];
  const isMd = file.endsWith('.md');
  const lines = text.split(/\r?\n/);
  let off: number | null = null;
  lines.forEach((line, i) => {
    if (off === null && line.includes(SCAN_OFF)) off = i + 1;
    if (off !== null) {
      if (line.includes(SCAN_ON) || i === lines.length - 1) {
        exempt.push({ file, from: off, to: i + 1 });
        off = null;
      }
      return;
    }
    const add = (citation: string, reason: string) => {
      if (!out.some((p) => p.line === i + 1 && p.citation === citation)) out.push({ file, line: i + 1, citation, reason });
    };
    for (const { re, reason } of FORBIDDEN) for (const m of line.matchAll(re)) add(m[0].trim(), reason);
    for (const m of line.matchAll(QUOTED_HEADING)) {
      add(m[0], `cite a heading by its slug: ${m[1]}#${headingSlug(m[2])}`);
    }
    for (const m of line.matchAll(MD_TOKEN)) {
      const [written, path, fragment] = m;
      const idx = m.index ?? 0;
      if (isMd && line.slice(Math.max(0, idx - 2), idx).endsWith('](')) continue; // a link target: checked below
      if (!isRepoPath(path, fragment, repo)) continue;
      const target = resolveMd(path, file, repo, path.startsWith('.'));
      if (!target) {
        add(written, `no file ${path} in this repository`);
        continue;
      }
      if (fragment) {
        const why = checkAnchor(target, fragment, repo);
        if (why) add(written, why);
      }
    }
    if (isMd) {
      const targets = [...line.matchAll(MD_LINK)].map((m) => m[1]);
      const def = MD_LINK_DEF.exec(line);
      if (def) targets.push(def[1]);
      for (const t of targets) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(t)) continue; // a URL: its host is checked below when upstream
        const [rawPath, frag] = t.split('#', 2) as [string, string | undefined];
        const path = decodeURI(rawPath);
        const target = path === '' ? file : resolveMd(path, file, repo, true);
        if (!target) {
          add(t, `link target ${path} does not exist (relative to ${posix.dirname(file)}/)`);
          continue;
        }
        if (frag && target.endsWith('.md')) {
          const why = checkAnchor(target, decodeURIComponent(frag), repo);
          if (why) add(t, why);
        }
      }
    }
    for (const m of line.matchAll(COMMIT_WORD)) {
      const parsed = parseCitation(`commit ${m[1]} (${m[2] ?? ''})`);
      if ('error' in parsed) add(m[0], m[2] === undefined ? 'a commit citation names the kernel version: commit <id> (v6.16)' : parsed.error);
    }
    for (const m of line.matchAll(LORE_WORD)) {
      if (!MESSAGE_ID.test(m[1])) add(m[0], `'${m[1]}' is not a message id (local-part@domain)`);
    }
    for (const m of line.matchAll(KERNEL_URL)) {
      if (PLACEHOLDER.test(m[1])) continue;
      if (!COMMIT_ID.test(m[1])) add(m[0], 'a git.kernel.org/linus/ link takes a 12 to 40 hex digit commit id');
    }
    for (const m of line.matchAll(LORE_URL)) {
      if (PLACEHOLDER.test(m[1])) continue;
      let id = m[1].replace(/\/$/, '');
      try {
        id = decodeURIComponent(id);
      } catch {
        /* keep as written */
      }
      if (!MESSAGE_ID.test(id)) add(m[0], 'a lore.kernel.org/r/ link takes a message id (local-part@domain)');
    }
  });
  return out;
}

/** Repository-relative paths of the files git tracks plus untracked files that are not ignored. */
export function listRepoFiles(root: string = REPO_ROOT): string[] {
  const r = spawnSync('git', ['-C', root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new MissingDependencyError(`citation scan: git is needed to list the repository's files (${r.error.message})`);
  if (r.status !== 0) throw new UsageError(`citation scan: ${root} is not a git checkout: ${r.stderr.trim().split('\n')[0]}`);
  // a tracked file deleted in the working tree is not there to cite
  return [...new Set(r.stdout.split('\0').filter(Boolean))].filter((f) => existsSync(join(root, f))).sort();
}

/** A RepoView over a file list read from `root`. */
export function repoView(root: string, files: string[]): RepoView {
  const set = new Set(files);
  const dirs = new Set<string>();
  for (const f of files) for (let d = posix.dirname(f); d !== '.'; d = posix.dirname(d)) dirs.add(d);
  const cache = new Map<string, Set<string> | null>();
  return {
    has: (p) => set.has(p) || dirs.has(p.replace(/\/$/, '')),
    anchors: (p) => {
      if (!cache.has(p)) cache.set(p, set.has(p) && p.endsWith('.md') ? markdownAnchors(readFileSync(join(root, p), 'utf8')) : null);
      return cache.get(p) ?? null;
    },
    topLevel: new Set(files.filter((f) => f.includes('/')).map((f) => f.split('/')[0])),
  };
}

export interface ExemptRegion {
  file: string;
  from: number;
  to: number;
}

export interface ScanResult {
  /** files scanned */
  files: string[];
  /** files left out because they are binary (a NUL byte in the first 8 KiB, git's own test) */
  binary: string[];
  problems: CitationProblem[];
  /** regions the scan did not read (SCAN_OFF … SCAN_ON) */
  exempt: ExemptRegion[];
}

export function scanRepo(root: string = REPO_ROOT): ScanResult {
  const all = listRepoFiles(root);
  const repo = repoView(root, all);
  const files: string[] = [];
  const binary: string[] = [];
  const problems: CitationProblem[] = [];
  const exempt: ExemptRegion[] = [];
  for (const f of all) {
    const buf = readFileSync(join(root, f));
    if (buf.subarray(0, 8192).includes(0)) {
      binary.push(f);
      continue;
    }
    files.push(f);
    problems.push(...scanText(f, buf.toString('utf8'), repo, exempt));
  }
  return { files, binary, problems, exempt };
}

export const formatProblem = (p: CitationProblem): string => `${p.file}:${p.line}: ${p.citation}: ${p.reason}`;

