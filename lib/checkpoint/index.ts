import { HalfTensor, halfStorage, noMasterReason } from '../compact/half';
import { BLOCK, CompactSlot } from '../compact/slot';
import { type StateArray, absmaxKey, compactArrays } from '../compact/state-dict';
import { DeviceTensor } from '../cuda';
import type { Group } from '../groups';
import { GRAD_SCALE } from '../options';
import type { Entry } from '../params';
import type { GradOptions } from '../rules/grad';
import { type LearningRate, type Schedule, scheduleDescription, scheduleFromDescription } from '../schedules';
import type { BaseHyper, OptimizerSpec } from '../spec';
import { type LoadedState, type StateDict, checkStateDict, groupEntry } from '../state-dict';
import type { Tensor } from '../tensor';
import { checkBoolean, checkKnownKeys, checkNumber, checkOptions, describe, lengthOf } from '../validate';
import { crc32c, crcHex } from './crc32c';
import { DTYPES, type Dtype, type HostArray, PARAM_DTYPE, byteChunks, dtypeOf } from './dtypes';
import { CHUNK, type Piece, type Reader, type ReadRequest } from './durable';
import { type TensorInfo, decodeHeader, encodeHeader, headerLength } from './safetensors';
import { libraryVersion } from './version';
import type { ShardInfo } from '../distributed/shard';

export { readFile, readFileSync, writeFileDurable, writeFileDurableSync } from './durable';

/**
 * Optimizer checkpoints as safetensors files: tensors `state.<param>.<slot>` (PyTorch's slot names)
 * and, optionally, `param.<name>`; `__metadata__` holds the optimizer's name, step, loss scale,
 * groups (as stateDict() records them, a schedule as its description) and a CRC-32C per tensor.
 */

/** Identifies the layout of the metadata, so a later version can read older files. */
const FORMAT = 'adam-native/1';

/** What a checkpoint reads from (and a load is checked against): the optimizer's insides. */
export interface CheckpointSubject<H extends BaseHyper, R extends GradOptions> {
  spec: OptimizerSpec<H, R>;
  groups: ReadonlyArray<Group<H>>;
  step: number;
  gradScale: number;
  /** A sharded optimizer's slice (lib/distributed): recorded, and a load must match it. */
  shard?: ShardInfo;
}

export interface SaveOptions {
  /** Also store every parameter's values as `param.<name>`. Default false. */
  params?: boolean;
}

export interface LoadOptions {
  /** Restore the parameters from the file's `param.<name>` tensors: default when the file has them. */
  params?: boolean;
}

/** A checked checkpoint, ready to apply: nothing is read from the file again. */
export interface LoadedCheckpoint<H> {
  state: LoadedState<H>;
  /** Each parameter's values, in its own dtype (float32, or bf16/fp16 bits). */
  params: Array<{ entry: Entry; values: Float32Array | Uint16Array }>;
  gradScale: number;
}

export function checkPath(owner: string, path: unknown): string {
  if (typeof path !== 'string') throw new TypeError(`${owner}: path must be a string, got ${describe(path)}`);
  if (path.length === 0) throw new RangeError(`${owner}: path is empty`);
  return path;
}

function checkParamsOption(owner: string, options: unknown): boolean | undefined {
  const opts = checkOptions(`${owner}: options`, options);
  checkKnownKeys(`${owner}: options`, opts, ['params']);
  return opts.params === undefined ? undefined : checkBoolean(`${owner}: option 'params'`, opts.params);
}

function checkLittleEndian(owner: string): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
    throw new Error(`${owner}: checkpoints are little-endian and this machine is big-endian; not supported`);
}

/** The lr as a checkpoint records it: a number, a built-in schedule's description, or { name: 'custom' }. */
function encodeLr(lr: LearningRate): unknown {
  if (typeof lr === 'number') return lr;
  return scheduleDescription(lr) ?? { name: 'custom' };
}

// JSON has no Infinity (a plateau schedule's best before any report): written as { $float: 'Infinity' }.
const FLOAT_TAG = '$float';
function encodeJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? { [FLOAT_TAG]: String(x) } : x));
}
function reviveFloat(_k: string, x: unknown): unknown {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || Object.keys(x).length !== 1) return x;
  const tagged = (x as Record<string, unknown>)[FLOAT_TAG];
  return tagged === 'Infinity' || tagged === '-Infinity' || tagged === 'NaN' ? Number(tagged) : x;
}

interface Planned {
  name: string;
  dtype: Dtype;
  shape: number[];
  tensor: Tensor | StateArray;
}

// Elements of a tensor or of any host array (read through the typed-array intrinsic).
const elementsOf = (t: Tensor | StateArray): number => (t instanceof DeviceTensor ? t.length : lengthOf(t as Float32Array));

/**
 * The file's pieces: each tensor, its CRC-32C computed chunk by chunk just before the chunk is
 * written, then the header (whose length the CRCs cannot change: 8 hex digits each) at the start.
 */
export function planSave<H extends BaseHyper, R extends GradOptions>(owner: string, subject: CheckpointSubject<H, R>, options: unknown): Piece[] {
  checkLittleEndian(owner);
  const withParams = checkParamsOption(owner, options) ?? false;
  const { spec, groups } = subject;
  const tensors: Planned[] = [];
  for (const g of groups)
    for (const e of g.entries) {
      // Each slot in the storage the optimizer keeps it in (the state dict's keys and arrays).
      for (const slot of [...spec.rule.stateSlots, 'master']) {
        const t = e.state.get(slot);
        if (!t) continue;
        for (const [key, array] of t instanceof CompactSlot ? compactArrays(slot, t) : [[slot, t] as const]) {
          const dtype = array instanceof DeviceTensor ? 'F32' : dtypeOf(array);
          if (!dtype) throw new Error(`${owner}: ${e.where}: state slot '${slot}' has an array type no checkpoint stores`);
          tensors.push({ name: `state.${e.name}.${key}`, dtype, shape: [elementsOf(array)], tensor: array });
        }
      }
      if (withParams) {
        const data = e.data as Tensor | Uint16Array;
        if (elementsOf(data) !== e.length) throw new Error(`${owner}: ${e.where}: data has length ${elementsOf(data)}, expected ${e.length} (detached or freed?)`);
        tensors.push({ name: `param.${e.name}`, dtype: PARAM_DTYPE[e.dtype], shape: [e.length], tensor: data });
      }
    }
  // Wider elements first: every tensor then starts aligned to its own element size.
  tensors.sort((a, b) => DTYPES[b.dtype].bytes - DTYPES[a.dtype].bytes);
  const crcs: Record<string, string> = {};
  for (const t of tensors) Object.defineProperty(crcs, t.name, { value: '00000000', enumerable: true, writable: true });
  // Everything but the CRCs as of this call: a setter used during an async save changes nothing here.
  const fixed = {
    format: FORMAT,
    optimizer: spec.name,
    version: libraryVersion(),
    step: String(subject.step),
    gradScale: String(subject.gradScale),
    ...(subject.shard ? { shard: JSON.stringify(subject.shard) } : {}),
    groups: encodeJson(
      groups.map((g) => {
        const entry = groupEntry(g, subject.step);
        return { ...entry, options: { ...entry.options, lr: encodeLr(g.hyper.lr) } };
      }),
    ),
  };
  const metadata = (): Record<string, string> => ({ ...fixed, crc32c: JSON.stringify(crcs) });
  const { layout } = encodeHeader(tensors, metadata());
  const pieces: Piece[] = layout.tensors.map((info, i) => ({
    position: layout.dataStart + info.begin,
    *chunks() {
      const t = tensors[i].tensor;
      let crc = 0;
      for (const bytes of byteChunks(t instanceof DeviceTensor ? t.download() : t, CHUNK)) {
        crc = crc32c(bytes, crc);
        yield bytes;
      }
      crcs[info.name] = crcHex(crc);
    },
  }));
  pieces.push({
    position: 0,
    chunks() {
      const { header } = encodeHeader(tensors, metadata());
      if (header.length !== layout.dataStart) throw new Error(`${owner}: internal error: the header changed length`);
      return [header];
    },
  });
  return pieces;
}

/** Where a tensor of the file goes in this optimizer. */
interface Target {
  info: TensorInfo;
  entry: Entry;
  /** The state slot (an absmax's too), or null for the parameter itself. */
  slot: string | null;
  /** Its key in the state dict: the slot, `<slot>_absmax` or `master`; '' for the parameter. */
  key: string;
}

function parseJson(v: string | undefined, what: string, problem: (what: string) => Error): unknown {
  if (v === undefined) throw problem(`has no __metadata__ "${what}" (not a checkpoint of this library?)`);
  try {
    return JSON.parse(v, reviveFloat);
  } catch {
    throw problem(`has __metadata__ "${what}" that is not valid JSON`);
  }
}

/**
 * Reads and checks a whole checkpoint against the optimizer, in this order: header length, JSON,
 * dtypes and offsets; metadata; every tensor's name, dtype and shape; every tensor's CRC-32C as it
 * is read; the hyperparameters and state as loadStateDict checks them (which converts a slot
 * stored in another dtype to the group's stateDtype). Nothing is changed.
 */
export function checkpointReader<H extends BaseHyper, R extends GradOptions>(
  owner: string,
  path: string,
  subject: CheckpointSubject<H, R>,
  options: unknown,
): Reader<LoadedCheckpoint<H>> {
  checkLittleEndian(owner);
  const wantParams = checkParamsOption(owner, options);
  const { spec, groups } = subject;
  const problem = (what: string) => new Error(`${owner}: "${path}" ${what}`);
  return function* read(size): Generator<ReadRequest, LoadedCheckpoint<H>, void> {
    const prefix = Buffer.alloc(8);
    if (size >= 8) yield { into: prefix, position: 0 };
    const n = headerLength(prefix, size, problem);
    const json = Buffer.alloc(n);
    yield { into: json, position: 8 };
    const layout = decodeHeader(json, 8 + n, size, problem);
    const meta = layout.metadata;

    if (meta.format !== FORMAT) throw problem(`has __metadata__ format ${describe(meta.format)}, expected '${FORMAT}'`);
    if (meta.optimizer !== spec.name) throw problem(`is a checkpoint of ${describe(meta.optimizer)}, not of '${spec.name}'`);
    if (!/^(0|[1-9][0-9]*)$/.test(meta.step ?? '')) throw problem(`has __metadata__ step ${describe(meta.step)}, not a step count`);
    const gradScale = checkNumber(`${owner}: "${path}" __metadata__ gradScale`, Number(meta.gradScale), GRAD_SCALE);
    const shard = subject.shard ? JSON.stringify(subject.shard) : undefined;
    if (meta.shard !== shard)
      throw problem(
        meta.shard === undefined
          ? `holds whole parameters; this optimizer is sharded (${shard}): load the file into one process and give its stateDict() to loadStateDict`
          : `holds a sharded optimizer's slice (${meta.shard}), not this optimizer's (${shard ?? 'not sharded'}); it loads with the same world size and rank`,
      );
    const crcs = parseJson(meta.crc32c, 'crc32c', problem);
    if (typeof crcs !== 'object' || crcs === null || Array.isArray(crcs)) throw problem('has __metadata__ crc32c that is not an object');
    const fileGroups = parseJson(meta.groups, 'groups', problem);
    if (!Array.isArray(fileGroups)) throw problem('has __metadata__ groups that is not a list');

    // Names, dtypes and shapes against this optimizer, before any data is read.
    const entries = new Map<string, Entry>(groups.flatMap((g) => g.entries.map((e) => [e.name, e] as const)));
    // A state tensor is a slot in any storage (converted as loadStateDict converts), an 8-bit slot's
    // absmax, or a half-precision parameter's master; a parameter is in its own dtype.
    const stateKeys = [...spec.rule.stateSlots.flatMap((s) => [s, absmaxKey(s)]), 'master'];
    const targets: Target[] = layout.tensors.map((info) => {
      const bad = (what: string) => problem(`tensor "${info.name}": ${what}`);
      let entry: Entry | undefined;
      let key: string | null = null;
      if (info.name.startsWith('param.')) entry = entries.get(info.name.slice(6));
      else if (info.name.startsWith('state.'))
        for (const k of stateKeys)
          if (info.name.endsWith(`.${k}`) && (entry = entries.get(info.name.slice(6, -k.length - 1)))) {
            key = k;
            break;
          }
      if (!entry) throw bad(`names no parameter (and slot) of this ${spec.name}; expected state.<param>.<${spec.rule.stateSlots.join('|')}>[_absmax], state.<param>.master or param.<param>`);
      const slot = key?.endsWith('_absmax') ? key.slice(0, -'_absmax'.length) : key;
      const absmax = key !== slot;
      let dtypes: Dtype[];
      let length = entry.length;
      let holds: string;
      if (key === null) {
        dtypes = [entry.data instanceof DeviceTensor ? 'F32' : PARAM_DTYPE[entry.dtype]];
        holds = `${entry.where} is a ${entry.dtype} parameter (${dtypes[0]})`;
      } else if (key === 'master') {
        if (!entry.state.has('master'))
          throw bad(`${entry.where} keeps no fp32 master (${noMasterReason(entry.dtype)})`);
        dtypes = ['F32'];
        holds = 'a master is F32';
      } else if (absmax) {
        dtypes = ['F32'];
        length = Math.ceil(entry.length / BLOCK);
        holds = 'an absmax is F32';
      } else {
        dtypes = ['F32', 'BF16', 'U8'];
        holds = 'a state slot is F32, BF16 or U8 (8-bit codes)';
      }
      if (!dtypes.includes(info.dtype)) throw bad(`dtype ${info.dtype}, but ${holds}`);
      const elements = info.shape.reduce((a, b) => a * b, 1);
      if (elements !== length)
        throw bad(
          absmax
            ? `shape [${info.shape.join(', ')}] has ${elements} elements, but ${entry.where}'s ${entry.length} elements make ${length} blocks of ${BLOCK} (one absmax each)`
            : `shape [${info.shape.join(', ')}] has ${elements} elements, but ${entry.where} has ${entry.length}`,
        );
      const crc = (crcs as Record<string, unknown>)[info.name];
      if (!Object.hasOwn(crcs, info.name) || typeof crc !== 'string' || !/^[0-9a-f]{8}$/.test(crc)) throw bad('has no CRC-32C in __metadata__ crc32c');
      return { info, entry, slot, key: key ?? '' };
    });
    // 8-bit codes and their absmax come in pairs.
    for (const t of targets) {
      if (t.slot === null || t.slot === 'master') continue;
      const other = `state.${t.entry.name}.${t.key === t.slot ? absmaxKey(t.slot) : t.slot}`;
      const pair = targets.find((u) => u.info.name === other);
      if (t.key === t.slot && t.info.dtype === 'U8' && !pair) throw problem(`tensor "${t.info.name}": 8-bit codes need "${other}" (F32, one absmax per block of ${BLOCK}), which the file lacks`);
      if (t.key !== t.slot && pair?.info.dtype !== 'U8')
        throw problem(`tensor "${t.info.name}": an absmax goes with U8 codes, but "${other}" is ${pair ? pair.info.dtype : 'not in the file'}`);
    }
    for (const name of Object.keys(crcs)) if (!targets.some((t) => t.info.name === name)) throw problem(`has a CRC-32C for "${name}", which is not in the file`);
    const paramTargets = targets.filter((t) => t.slot === null);
    if (wantParams === true && paramTargets.length !== entries.size) {
      const missing = [...entries.values()].find((e) => !paramTargets.some((t) => t.entry === e))!;
      throw problem(`has no tensor "param.${missing.name}" (saved without { params: true }?), and the load asked for params`);
    }

    // The hyperparameters, each schedule made from its description: the optimizer's own schedule
    // object when its description is the same (a reduceOnPlateau the caller reports to stays
    // connected), else a new one. A custom function is not in the file: the optimizer's own stays.
    const options = fileGroups.map((fg: unknown, gi: number) => {
      if (typeof fg !== 'object' || fg === null || Array.isArray(fg)) return fg;
      const opts = (fg as Record<string, unknown>).options;
      if (typeof opts !== 'object' || opts === null || !Object.hasOwn(opts, 'lr')) return fg;
      const lr = (opts as Record<string, unknown>).lr;
      if (typeof lr !== 'object' || lr === null) return fg;
      const where = `${owner}: "${path}" groups[${gi}].options.lr`;
      const mine = groups[gi]?.hyper.lr;
      let value: unknown;
      if ((lr as { name?: unknown }).name === 'custom') {
        value = mine;
        if (typeof value !== 'function')
          throw new Error(`${where} was a custom schedule function, which a file cannot hold; give this optimizer the same function (as its lr) before loading`);
      } else {
        const own = typeof mine === 'function' ? scheduleDescription(mine as Schedule) : null;
        value = own && encodeJson(own) === encodeJson(lr) ? mine : scheduleFromDescription(where, lr);
      }
      return { ...fg, options: { ...opts, lr: value } };
    });

    // The data, in file order, each tensor in chunks straight into its own array, CRC as it comes.
    const values = new Map<Target, HostArray>();
    for (const t of targets) {
      const array = new DTYPES[t.info.dtype].array((t.info.end - t.info.begin) / DTYPES[t.info.dtype].bytes);
      let crc = 0;
      let position = layout.dataStart + t.info.begin;
      for (const chunk of byteChunks(array, CHUNK)) {
        yield { into: chunk, position };
        crc = crc32c(chunk, crc);
        position += chunk.length;
      }
      const expected = (crcs as Record<string, string>)[t.info.name];
      if (crcHex(crc) !== expected) throw problem(`tensor "${t.info.name}": CRC-32C of the data is ${crcHex(crc)}, the header records ${expected} (the file is damaged)`);
      values.set(t, array);
    }

    const state: StateDict['state'] = {};
    for (const name of entries.keys()) Object.defineProperty(state, name, { value: {}, enumerable: true });
    for (const [t, array] of values) if (t.slot !== null) state[t.entry.name][t.key] = array as StateArray;
    const sd = { optimizer: spec.name, step: Number(meta.step), groups: options, state };
    const loaded = checkStateDict(spec, groups, sd, `${owner}: "${path}"`);
    for (const t of targets) {
      if (t.slot === null) continue;
      const gi = groups.findIndex((g) => g.entries.includes(t.entry));
      if (!loaded.slots[gi][groups[gi].entries.indexOf(t.entry)].has(t.slot))
        throw problem(`tensor "${t.info.name}": this ${spec.name} with the file's options has no '${t.slot}' state`);
    }
    const params = wantParams === false ? [] : paramTargets.map((t) => ({ entry: t.entry, values: values.get(t) as Float32Array | Uint16Array }));
    // A master the file lacks (saved without masters) starts from the parameter the load restores.
    for (const { entry, values: v } of params)
      if (entry.state.has('master') && !Object.hasOwn(state[entry.name], 'master')) {
        const gi = groups.findIndex((g) => g.entries.includes(entry));
        loaded.slots[gi][groups[gi].entries.indexOf(entry)].set('master', new HalfTensor(halfStorage(entry.dtype as 'bf16' | 'fp16'), v as Uint16Array).toFloat32());
      }
    for (const { entry } of params)
      if (!(entry.data instanceof DeviceTensor) && lengthOf(entry.data) !== entry.length)
        throw new Error(`${owner}: ${entry.where}: data has length ${lengthOf(entry.data)}, expected ${entry.length} (detached?)`);
    return { state: loaded, params, gradScale };
  };
}
