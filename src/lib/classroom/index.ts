/** The teaching machinery: release, grading and reports of the assignments (the root index exports it as the namespace `classroom`; the checks students call stay at the root). */
export * from './checks';
export * from './nbgrader';
export * from './release';
export * from './grade';
export * from './report';
