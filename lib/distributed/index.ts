import { Comm } from './comm';
import { INSTALL_HINT, loadMpi } from './load';

export { Comm } from './comm';
export type { ShardInfo } from './shard';

let world: Comm | undefined;

/**
 * This process's communicator (MPI_COMM_WORLD): MPI is initialised on the first call (thread
 * level MPI_THREAD_SERIALIZED: collectives run on the JavaScript thread or, for stepAsync, on one
 * worker thread at a time) and finalised at exit. Launch with `mpirun -np N node script.js`; a
 * process started without mpirun is a world of one. Throws, saying what to install, where the MPI
 * addon was not built.
 */
export function mpi(): Comm {
  if (world) return world;
  const { binding, error } = loadMpi();
  if (!binding) throw new Error(`distributed.mpi(): MPI is not available: ${error}. To use it, ${INSTALL_HINT}`);
  return (world = new Comm(binding));
}
