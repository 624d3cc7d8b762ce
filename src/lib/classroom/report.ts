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
  if (r.kernel.stopped) out.push(`The notebook stopped early: ${r.kernel.stopped}`);
  if (r.tampered.length) out.push(`Edited check or read-only cells (the teacher's versions were run instead): ${r.tampered.join(', ')}`);
  if (r.missing.length) out.push(`Deleted check or read-only cells (put back before running): ${r.missing.join(', ')}`);
  for (const v of r.violations) out.push(`Refused by the sandbox in cell ${v.cell}${v.gradeId ? ` (${v.gradeId})` : ''}: ${v.message}`);
  for (const f of r.flags) out.push(`Cell ${f.cell}: code that ${f.reason}; a person should look at it`);
  return out;
}

function mdCode(text: string): string {
  const fence = text.includes('```') ? '~~~' : '```';
  return `${fence}\n${text}\n${fence}`;
}

export function reportMarkdown(r: GradeReport): string {
  const rows = r.checks.map((c) => `| \`${c.gradeId}\` | ${fmtPoints(c.points)} / ${fmtPoints(c.maxPoints)} | ${STATUS[c.status]}${c.hidden ? ' (has hidden tests)' : ''} |`);
  const failed = r.checks.filter((c) => c.error).map((c) => `### \`${c.gradeId}\`: ${STATUS[c.status]}\n\n${mdCode(c.error!)}`);
  const cellErrors = r.cellErrors.map((e) => `### Cell ${e.cell}${e.gradeId ? ` (\`${e.gradeId}\`)` : ''}\n\n${mdCode(e.error)}`);
  const n = notes(r);
  return [
    `# ${r.assignment}: ${r.submission}`,
    '',
    `**${fmtPoints(r.points)} / ${fmtPoints(r.maxPoints)} points**`,
    '',
    '| check | points | status |',
    '|---|---|---|',
    ...rows,
    ...(failed.length ? ['', '## What to fix', '', ...failed.flatMap((f) => [f, ''])] : []),
    ...(cellErrors.length ? ['', '## Errors in your own cells', '', 'These cells failed; the checks that use what they define fail too.', '', ...cellErrors.flatMap((f) => [f, ''])] : []),
    ...(n.length ? ['', '## Notes', '', ...n.map((l) => `- ${l}`)] : []),
    '',
    `Graded in ${r.kernel.seconds.toFixed(1)} s.`,
    '',
  ].join('\n');
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
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
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const ids = reports[0]?.checks.map((c) => c.gradeId) ?? [];
  const header = ['submission', 'points', 'max_points', ...ids, 'notes'];
  const lines = reports.map((r) =>
    [q(r.submission), fmtPoints(r.points), fmtPoints(r.maxPoints), ...ids.map((id) => fmtPoints(r.checks.find((c) => c.gradeId === id)?.points ?? 0)), q(notes(r).join('; '))].join(','),
  );
  return [header.join(','), ...lines].join('\n') + '\n';
}
