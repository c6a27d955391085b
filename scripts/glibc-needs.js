// The glibc symbol versions a binary needs, from `objdump -T`: the figure the README states.
'use strict';
const { execFileSync } = require('node:child_process');

/** Compares dotted versions: '2.3.2' < '2.14'. */
function compareVersions(a, b) {
  const x = a.split('.').map(Number), y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
  return 0;
}

/** { newest, symbols } where symbols maps each needed GLIBC_x version to the symbols that need it. */
function glibcNeeds(file) {
  const dump = execFileSync('objdump', ['-T', file], { encoding: 'utf8' });
  const symbols = {};
  for (const line of dump.split('\n')) {
    const m = /\*UND\*\s+\S+\s+\(?GLIBC_([0-9.]+)\)?\s+(\S+)/.exec(line);
    if (m) (symbols[m[1]] ??= []).push(m[2]);
  }
  const versions = Object.keys(symbols).sort(compareVersions);
  return { newest: versions.length ? versions[versions.length - 1] : null, symbols };
}

module.exports = { glibcNeeds, compareVersions };

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node scripts/glibc-needs.js <file.node>');
    process.exit(2);
  }
  const { newest, symbols } = glibcNeeds(file);
  console.log(`${file} needs glibc >= ${newest}: ${symbols[newest].join(', ')}`);
}
