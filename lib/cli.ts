#!/usr/bin/env node
// `npx adam-native doctor`. Exit status: 0 all good, 1 a check failed, 2 no native addon (the
// TypeScript backend works), 64 a usage error.
import { doctor } from './doctor/report';

const EXIT = { ok: 0, fail: 1, degraded: 2 } as const;
const command = process.argv[2];
if (command === 'doctor') {
  const report = doctor();
  console.log(['adam-native doctor', ...report.lines].join('\n'));
  process.exitCode = EXIT[report.verdict];
} else {
  console.error(`usage: adam-native doctor${command ? ` (unknown command '${command}')` : ''}`);
  process.exitCode = 64;
}
