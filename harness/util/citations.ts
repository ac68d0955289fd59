// Citations the product may carry (docs/reference.md#how-to-cite): a file and heading of this
// repository, an upstream kernel commit with the kernel version it landed in, or a mailing-list
// message id. Known-defect links and findings entries hold them; reports turn them into hrefs; the
// citation scan (citationScan.ts) checks every one written anywhere in the repository.
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Citation =
  /** a Markdown path relative to the repository root, and a heading slug (or null) after its `#` */
  | { kind: 'repo'; path: string; fragment: string | null }
  /** `commit be12ad45e15b (v6.8-rc1)` */
  | { kind: 'commit'; id: string; version: string }
  /** `lore <message-id>` */
  | { kind: 'lore'; messageId: string };

/** The repository the running code belongs to (harness/util/ → two levels up). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What to write, for one-line error messages. */
export const CITATION_FORMS = 'docs/<page>.md#<heading-slug>, commit <12-40 hex> (v<kernel version>) or lore <message-id>';

/** A kernel version as citations name it: v6.8, v6.8-rc1, v6.12.34. */
export const KERNEL_VERSION = /^v\d+\.\d+(?:\.\d+)?(?:-rc\d+)?$/;
/** Upstream commit ids are cited with 12 to 40 lower-case hex digits. */
export const COMMIT_ID = /^[0-9a-f]{12,40}$/;
/** An RFC 5322 message id without its angle brackets, as lore.kernel.org/r/ takes it. */
export const MESSAGE_ID = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;
/** Characters of a heading slug (GitHub keeps letters, marks, digits, `_` and `-`). */
export const SLUG_CHARS = /^[\p{L}\p{M}\p{N}_-]+$/u;

const REPO_FORM = /^((?:[\w.-]+\/)*[\w.-]+\.md)(?:#(.*))?$/;
const COMMIT_FORM = /^commit\s+(\S+)\s+\((.+)\)$/;
const LORE_FORM = /^lore\s+<?([^\s<>]+)>?$/;

/**
 * Parse one citation (the whole string). Returns the citation, or a reason it is not one. Only the
 * form is checked here: whether a repository file and heading exist is `resolveRepoCitation`'s job.
 */
export function parseCitation(text: string): Citation | { error: string } {
  const s = text.trim();
  let m = REPO_FORM.exec(s);
  if (m) {
    if (m[1].startsWith('/') || m[1].split('/').includes('..')) return { error: `'${s}': a repository path is relative to the root, without '..'` };
    if (m[2] !== undefined && !SLUG_CHARS.test(m[2])) return { error: `'${s}': '#${m[2]}' is not a heading slug (lower-case words joined by '-')` };
    return { kind: 'repo', path: m[1], fragment: m[2] ?? null };
  }
  m = COMMIT_FORM.exec(s);
  if (m) {
    const version = m[2].split(/[;,]/)[0].trim();
    if (!COMMIT_ID.test(m[1])) return { error: `'${s}': a commit id is 12 to 40 lower-case hex digits` };
    if (!KERNEL_VERSION.test(version)) return { error: `'${s}': name the kernel version the commit landed in, e.g. (v6.16)` };
    return { kind: 'commit', id: m[1], version };
  }
  m = LORE_FORM.exec(s);
  if (m) {
    if (!MESSAGE_ID.test(m[1])) return { error: `'${s}': '${m[1]}' is not a message id (local-part@domain)` };
    return { kind: 'lore', messageId: m[1] };
  }
  return { error: `'${s}' is not a citation (${CITATION_FORMS})` };
}

export const isCitation = (c: Citation | { error: string }): c is Citation => !('error' in c);

/** The link a report shows for a citation: upstream URL, or the repository file relative to `fromDir`. */
export function citationHref(c: Citation, fromDir: string, root = REPO_ROOT): string {
  switch (c.kind) {
    case 'commit':
      return `https://git.kernel.org/linus/${c.id}`;
    case 'lore':
      return `https://lore.kernel.org/r/${encodeURIComponent(c.messageId).replace(/%40/g, '@')}`;
    case 'repo': {
      const rel = relative(fromDir, resolve(root, c.path)).split(sep).join('/');
      return encodeURI(rel) + (c.fragment ? `#${encodeURIComponent(c.fragment)}` : '');
    }
  }
}

/** The citation as a person reads it. */
export function citationText(c: Citation): string {
  switch (c.kind) {
    case 'commit':
      return `commit ${c.id} (${c.version})`;
    case 'lore':
      return `lore ${c.messageId}`;
    case 'repo':
      return c.path + (c.fragment ? `#${c.fragment}` : '');
  }
}

/** GitHub's heading anchor: lower case, punctuation and symbols dropped, each space a hyphen. */
export function headingSlug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/**
 * The anchors a Markdown page offers: one per ATX heading outside fenced code (repeats get `-1`,
 * `-2`, … as on GitHub), plus explicit `<a id>`/`<a name>` anchors. Inline markup in a heading
 * (code spans, emphasis, links) counts by its text; HTML tags do not count.
 */
export function markdownAnchors(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (f) {
      if (fence === null) fence = f[1][0].repeat(f[1].length);
      else if (f[1].startsWith(fence)) fence = null;
      continue;
    }
    if (fence !== null) continue;
    for (const a of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(a[1]);
    const h = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (!h) continue;
    const visible = h[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = headingSlug(visible);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}
