/**
 * What the teacher's checks see of a submission: the top-level declarations of the teacher's solution
 * cells, with every body replaced by a call into the student's kernel. A check cell that calls
 * `expectedMetricFromJacobians(jMu, jSigma)` in the checker process gets the teacher's signature (so the
 * check type-checks as the teacher wrote it) and the student's answer (computed in the student's
 * process from the arguments sent, returned as data).
 *
 * Per statement of a solution cell: imports, interfaces, type aliases and overload signatures stay as
 * they are; a function declaration keeps its header and gets a proxy body; a variable holding an arrow
 * or function expression becomes a proxy function; any other variable is read from the student's kernel
 * when the proxy cell runs. Other statements (classes, expressions) are the student's business and do not
 * cross: checks reach the student's code through functions and values only.
 */
import type * as TS from 'typescript';

const CALL = '(globalThis as any).__lsoStudent.call';

function ts(): typeof TS {
  return require('typescript') as typeof TS;
}

/** The proxy version of one solution cell's source (the teacher's, with or without solutions). */
export function proxySource(source: string): string {
  const t = ts();
  const file = t.createSourceFile('cell.ts', source, t.ScriptTarget.ES2020, true, t.ScriptKind.TS);
  const out: string[] = [];
  const text = (node: TS.Node) => source.slice(node.getStart(file), node.getEnd());
  for (const st of file.statements) {
    if (t.isImportDeclaration(st) || t.isImportEqualsDeclaration(st) || t.isInterfaceDeclaration(st) || t.isTypeAliasDeclaration(st)) {
      out.push(text(st));
    } else if (t.isFunctionDeclaration(st) && st.name) {
      if (!st.body) out.push(text(st)); // an overload signature
      else if (st.asteriskToken) out.push(`// ${st.name.text}: a generator cannot be called from the checks`);
      else {
        const header = source.slice(st.getStart(file), st.body.getStart(file));
        out.push(`${header}{\n  return ${CALL}(${JSON.stringify(st.name.text)}, Array.from(arguments));\n}`);
      }
    } else if (t.isVariableStatement(st)) {
      const keyword = st.declarationList.flags & t.NodeFlags.Const ? 'const' : st.declarationList.flags & t.NodeFlags.Let ? 'let' : 'var';
      for (const d of st.declarationList.declarations) {
        if (!t.isIdentifier(d.name)) continue;
        const name = d.name.text;
        const type = d.type ? `: ${text(d.type)}` : '';
        const init = d.initializer;
        const isFn = init && (t.isArrowFunction(init) || t.isFunctionExpression(init));
        const value = isFn ? `((...args: any[]) => ${CALL}(${JSON.stringify(name)}, args)) as any` : `${CALL}(${JSON.stringify(name)}, null)`;
        out.push(`${keyword} ${name}${type} = ${value};`);
      }
    }
  }
  return out.join('\n\n');
}

/** Names the checks can reach in a solution cell's source (for the report and the docs' examples). */
export function exposedNames(source: string): string[] {
  const t = ts();
  const file = t.createSourceFile('cell.ts', source, t.ScriptTarget.ES2020, true, t.ScriptKind.TS);
  const names: string[] = [];
  for (const st of file.statements) {
    if (t.isFunctionDeclaration(st) && st.name && st.body) names.push(st.name.text);
    if (t.isVariableStatement(st)) for (const d of st.declarationList.declarations) if (t.isIdentifier(d.name)) names.push(d.name.text);
  }
  return names;
}
