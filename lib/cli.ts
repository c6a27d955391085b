#!/usr/bin/env node
// `npx adam-native doctor`. Exit status: 0 all good, 1 a check failed, 2 no native addon (the
// TypeScript backend works), 64 a usage error.
import { doctor } from './doctor/report';

const USAGE = `usage: adam-native <command>

commands:
  doctor    where the native addon came from, the CPU's instruction sets, CUDA, and a bitwise
            check of every backend against the TypeScript reference
  help      this text (also --help, -h)

exit status of doctor: 0 all good, 1 a check failed, 2 no native addon (the TypeScript backend works)`;

const EXIT = { ok: 0, fail: 1, degraded: 2 } as const;
const command = process.argv[2];
if (command === 'doctor') {
  const report = doctor();
  console.log(['adam-native doctor', ...report.lines].join('\n'));
  process.exitCode = EXIT[report.verdict];
} else if (command === 'help' || command === '--help' || command === '-h') {
  console.log(USAGE);
} else {
  console.error(`${command ? `adam-native: unknown command '${command}'\n` : ''}${USAGE}`);
  process.exitCode = 64;
}
