import * as path from 'node:path';

/** The MPI addon's surface (native/mpi/mpi_addon.cc). Counts are per rank, in elements. */
export interface MpiBinding {
  init(): { rank: number; size: number; threadLevel: string; library: string };
  state(): 'uninitialized' | 'active' | 'finalized';
  finalize(): void;
  barrier(): void;
  agree(flag: boolean): boolean;
  broadcast(bytes: Uint8Array): Uint8Array;
  gather(values: Float32Array): Float32Array | null;
  reduceScatter(send: Float32Array, counts: number[], scratch: Float32Array, out: Float32Array, average: boolean): void;
  reduceScatterAsync(send: Float32Array, counts: number[], scratch: Float32Array, out: Float32Array, average: boolean): Promise<void>;
  allGather(all: Float32Array, counts: number[]): void;
  allGatherAsync(all: Float32Array, counts: number[]): Promise<void>;
  mpiReduceScatter(send: Float32Array, counts: number[], out: Float32Array): number;
  stats(reset?: boolean): { mpiSeconds: number; sumSeconds: number; bytesSent: number; calls: number };
}

export const INSTALL_HINT =
  'install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev; macOS: brew install open-mpi) and rebuild the addon in the package folder (npx cmake-js compile), then launch with mpirun -np N node script.js';

// lib/distributed or dist/distributed: the package root is two levels up.
const ROOT = path.join(__dirname, '..', '..');

let cached: { binding: MpiBinding | null; error: string | null } | undefined;

/** The MPI addon: ADAM_NATIVE_MPI_BINARY if set, else build/Release/adam_native_mpi.node. */
export function loadMpi(): { binding: MpiBinding | null; error: string | null } {
  if (cached) return cached;
  const forced = process.env.ADAM_NATIVE_MPI_BINARY;
  const file = forced ? path.resolve(forced) : path.join(ROOT, 'build', 'Release', 'adam_native_mpi.node');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = { binding: require(file) as MpiBinding, error: null };
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' ? `${file} was not built (CMake found no MPI)` : `${file} did not load: ${(e as Error).message.split('\n')[0]}`;
    cached = { binding: null, error: why };
  }
  return cached;
}
