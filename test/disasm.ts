import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where CMake (Ninja or Makefiles alike) puts an ISA unit's object inside a build tree. */
export function kernelObject(buildDir: string, isa: string): string {
  return path.join(buildDir, 'CMakeFiles', `adam_kernels_${isa}.dir`, 'native', 'kernels', `kernels_${isa}.cc.o`);
}

/** The object's functions and how often each vector-register width appears in their code. */
export function vectorRegisters(object: string): { functions: string[]; xmm: number; ymm: number; zmm: number } {
  if (!fs.existsSync(object)) throw new Error(`${object} does not exist: build the addon first (npm ci, or npx cmake-js compile)`);
  const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', object], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const count = (re: RegExp) => (asm.match(re) ?? []).length;
  const functions = [...asm.matchAll(/^[0-9a-f]+ <([^>]+)>:$/gm)].map((m) => m[1]!);
  return { functions, xmm: count(/%xmm\d+/g), ymm: count(/%ymm\d+/g), zmm: count(/%zmm\d+/g) };
}

/** A build tree's compiler flag files: build.ninja (Ninja) or each target's flags.make (Makefiles). */
export function flagFiles(buildDir: string): string[] {
  const cmakeFiles = path.join(buildDir, 'CMakeFiles');
  const targets = fs.existsSync(cmakeFiles) ? fs.readdirSync(cmakeFiles).filter((d) => d.endsWith('.dir')) : [];
  return [path.join(buildDir, 'build.ninja'), ...targets.map((d) => path.join(cmakeFiles, d, 'flags.make'))].filter((f) => fs.existsSync(f));
}

/** Fused multiply-add instructions (vfmadd/vfmsub/vfnmadd/vfnmsub, any form) in an object's code. */
export function fusedMultiplyAdds(object: string): number {
  if (!fs.existsSync(object)) throw new Error(`${object} does not exist: build the addon first (npm ci, or npx cmake-js compile)`);
  const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', object], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return (asm.match(/\bv?f(n?)m(add|sub)\w*/g) ?? []).length;
}
