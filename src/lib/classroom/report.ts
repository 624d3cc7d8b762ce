/**
 * Grading reports for people: Markdown (for a feedback e-mail or a repository) and a self-contained HTML
 * page, from the JSON report. A student reads the points of each check and, for a failed one, the error
 * to act on; the teacher also sees edited or deleted checks, sandbox refusals and flagged code.
 */
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic';
import type { CheckResult, GradeReport } from './grade';

export type GradeReportFormat = 'json' | 'md' | 'html';

function fmtPoints(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

const STATUS: Record<CheckResult['status'], string> = { passed: 'passed', failed: 'FAILED', 'not-run': 'not run' };

/** Lines of notes for the teacher (and the student): what the grader noticed besides the points. */
function notes(r: GradeReport): string[] {
  const out: string[] = [];
  if (r.isolation?.warning) out.push(`Warning: ${r.isolation.warning}`);
  if (r.kernel.stopped) out.push(`The notebook stopped early: ${r.kernel.stopped}`);
  if (r.tampered.length) out.push(`Edited check or read-only cells (the teacher's versions were run instead): ${r.tampered.join(', ')}`);
  if (r.missing.length) out.push(`Deleted check or read-only cells (put back before running): ${r.missing.join(', ')}`);
  for (const v of r.violations) out.push(`Refused by the sandbox in cell ${v.cell}${v.gradeId ? ` (${v.gradeId})` : ''}: ${v.message}`);
  for (const f of r.flags) out.push(`Cell ${f.cell}: code that ${f.reason}; a person should look at it`);
  if (r.outputCut) out.push(`${r.outputCut} characters of output were not kept (the limit per submission)`);
  if (r.strayMessages) out.push(`The notebook's kernel sent ${r.strayMessages} message(s) the grader did not ask for (ignored)`);
  return out;
}

/** A Markdown code block that no text can close: a backtick fence longer than any run of backticks in it. */
export function mdCode(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}text\n${text}\n${fence}`;
}

/**
 * Text as inert Markdown on one line: the characters that start inline constructs (code, emphasis,
 * links and images, HTML and autolinks, entities, strike-through, table cells) backslash-escaped, as
 * CommonMark allows for any ASCII punctuation; line breaks become spaces (no block can start); at most
 * `max` characters.
 */
export function mdText(text: string, max = 1000): string {
  const line = text.replace(/[\r\n\t\f\v]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '');
  const cut = line.length > max ? `${line.slice(0, max)} ...` : line;
  return cut.replace(/[\\`*_{}[\]()!<>~&|#]/g, (c) => `\\${c}`);
}

/** A grade_id as code when it is a plain identifier (the usual case), else as escaped text. */
function mdId(id: string): string {
  return /^[\w.-]{1,100}$/.test(id) ? `\`${id}\`` : mdText(id, 100);
}

export function reportMarkdown(r: GradeReport): string {
  const rows = r.checks.map((c) => `| ${mdId(c.gradeId)} | ${fmtPoints(c.points)} / ${fmtPoints(c.maxPoints)} | ${STATUS[c.status]}${c.hidden ? ' (has hidden tests)' : ''} |`);
  const failed = r.checks.filter((c) => c.error).map((c) => `### ${mdId(c.gradeId)}: ${STATUS[c.status]}\n\n${mdCode(c.error!)}`);
  const cellErrors = r.cellErrors.map((e) => `### Cell ${e.cell}${e.gradeId ? ` (${mdId(e.gradeId)})` : ''}\n\n${mdCode(e.error)}`);
  const n = notes(r);
  return [
    `# ${mdText(r.assignment)}: ${mdText(r.submission)}`,
    '',
    `**${fmtPoints(r.points)} / ${fmtPoints(r.maxPoints)} points**`,
    '',
    '| check | points | status |',
    '|---|---|---|',
    ...rows,
    ...(failed.length ? ['', '## What to fix', '', ...failed.flatMap((f) => [f, ''])] : []),
    ...(cellErrors.length ? ['', '## Errors in your own cells', '', 'These cells failed; the checks that use what they define fail too.', '', ...cellErrors.flatMap((f) => [f, ''])] : []),
    ...(n.length ? ['', '## Notes', '', ...n.map((l) => `- ${mdText(l)}`)] : []),
    '',
    `Graded in ${r.kernel.seconds.toFixed(1)} s.`,
    '',
  ].join('\n');
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function reportHtml(r: GradeReport): string {
  const rows = r.checks
    .map((c) => `<tr class="${c.status}"><td><code>${esc(c.gradeId)}</code></td><td>${fmtPoints(c.points)} / ${fmtPoints(c.maxPoints)}</td><td>${STATUS[c.status]}${c.hidden ? ' (has hidden tests)' : ''}</td></tr>`)
    .join('\n');
  const errors = [
    ...r.checks.filter((c) => c.error).map((c) => [`<code>${esc(c.gradeId)}</code>: ${STATUS[c.status]}`, c.error!]),
    ...r.cellErrors.map((e) => [`Your cell ${e.cell}${e.gradeId ? ` (<code>${esc(e.gradeId)}</code>)` : ''}`, e.error]),
  ]
    .map(([title, text]) => `<h3>${title}</h3>\n<pre>${esc(text)}</pre>`)
    .join('\n');
  const n = notes(r);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.assignment)}: ${esc(r.submission)}</title>
<style>
body { font-family: Arial, 'Liberation Sans', sans-serif; max-width: 52rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 0.3rem 0.7rem; text-align: left; }
tr.passed td:last-child { color: #1a7f37; } tr.failed td:last-child, tr.not-run td:last-child { color: #b42318; font-weight: bold; }
pre { background: #f6f8fa; padding: 0.7rem; overflow-x: auto; white-space: pre-wrap; }
</style></head><body>
<h1>${esc(r.assignment)}: ${esc(r.submission)}</h1>
<p><strong>${fmtPoints(r.points)} / ${fmtPoints(r.maxPoints)} points</strong></p>
<table><tr><th>check</th><th>points</th><th>status</th></tr>
${rows}
</table>
${errors ? `<h2>What to fix</h2>\n${errors}` : ''}
${n.length ? `<h2>Notes</h2>\n<ul>${n.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>` : ''}
<p>Graded in ${r.kernel.seconds.toFixed(1)} s.</p>
</body></html>
`;
}

/** Writes <dir>/<stem>.report.<ext> for each format; returns the files. */
export function writeReport(r: GradeReport, dir: string, stem: string, formats: readonly GradeReportFormat[] = ['json', 'md']): string[] {
  return formats.map((f) => {
    const file = path.join(dir, `${stem}.report.${f}`);
    if (f === 'json') writeJsonAtomic(file, r);
    else writeFileAtomic(file, f === 'md' ? reportMarkdown(r) : reportHtml(r));
    return file;
  });
}

/** One line per submission for a grades table (CSV, as nbgrader's export). */
export function gradesCsv(reports: readonly GradeReport[]): string {
  // Quoted when needed; a leading = + - @ is defused so that no spreadsheet reads a cell as a formula.
  const q = (raw: string) => {
    const s = /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const ids = reports[0]?.checks.map((c) => c.gradeId) ?? [];
  const header = ['submission', 'points', 'max_points', ...ids, 'notes'];
  const lines = reports.map((r) =>
    [q(r.submission), fmtPoints(r.points), fmtPoints(r.maxPoints), ...ids.map((id) => fmtPoints(r.checks.find((c) => c.gradeId === id)?.points ?? 0)), q(notes(r).join('; '))].join(','),
  );
  return [header.join(','), ...lines].join('\n') + '\n';
}
