import { describe, typedArrayKind } from '../validate';
import { bf16Widen } from './convert';
import { BLOCK, CompactSlot, Storage, type StateDtype, q8StorageOf, storageFor } from './slot';

/** A state slot as a state dict holds it: float32 values, bf16 bits, or 8-bit codes (with `<slot>_absmax`). */
export type StateArray = Float32Array | Uint16Array | Uint8Array;

/** The arrays of one compact slot by key (the slot's own, no copies): `slot`, and `slot_absmax` for 8-bit codes. */
export function compactArrays(slot: string, s: CompactSlot): Array<[string, StateArray]> {
  const out: Array<[string, StateArray]> = [[slot, s.codes]];
  if (s.absmax) out.push([absmaxKey(slot), s.absmax]);
  return out;
}

/** The dict's arrays for one compact slot (copies). */
export const saveCompactSlot = (slot: string, s: CompactSlot): Array<[string, StateArray]> => compactArrays(slot, s).map(([k, a]) => [k, a.slice()]);

/** The extra key a dict may hold for each slot. */
export const absmaxKey = (slot: string): string => `${slot}_absmax`;

/**
 * Reads one slot of a state dict in any storage and converts it to the storage this optimizer
 * keeps it in (`stateDtype`, the slot and the tensor's length decide): float32 values, or a fresh
 * CompactSlot. 8-bit codes are dequantised and quantised again only when the storage differs (the
 * same map: codes and absmax are copied as they are). Throws naming `where`; copies everything.
 */
export function readSlot(
  where: string,
  given: Record<string, unknown>,
  slot: string,
  length: number,
  stateDtype: StateDtype,
): Float32Array | CompactSlot {
  const value = given[slot];
  const kind = typedArrayKind(value);
  const absmaxGiven = Object.hasOwn(given, absmaxKey(slot)) ? given[absmaxKey(slot)] : undefined;
  if (kind !== 'Float32Array' && kind !== 'Uint16Array' && kind !== 'Uint8Array')
    throw new TypeError(`${where} must be a Float32Array (fp32), Uint16Array (bf16) or Uint8Array (int8 codes), got ${describe(value)}`);
  const array = value as StateArray;
  if (array.length !== length) throw new RangeError(`${where} has length ${array.length}, but the parameter has ${length}`);
  if (kind !== 'Uint8Array' && absmaxGiven !== undefined) throw new TypeError(`${where}_absmax is given, but ${where} is not a Uint8Array of int8 codes`);
  const target = storageFor(slot, stateDtype, length);
  const wide = new Float32Array(length);
  if (kind === 'Uint8Array') {
    if (typedArrayKind(absmaxGiven) !== 'Float32Array') throw new TypeError(`${where}_absmax must be a Float32Array (int8 codes need one absmax per block of ${BLOCK}), got ${describe(absmaxGiven)}`);
    const absmax = absmaxGiven as Float32Array;
    const blocks = Math.ceil(length / BLOCK);
    if (absmax.length !== blocks) throw new RangeError(`${where}_absmax has length ${absmax.length}, expected ${blocks} (one per block of ${BLOCK})`);
    const source = new CompactSlot(q8StorageOf(slot), length);
    source.codes.set(array);
    source.absmax!.set(absmax);
    if (target === source.storage) return source;
    wide.set(source.toFloat32());
  } else if (kind === 'Uint16Array') {
    if (target === Storage.bf16) {
      const s = new CompactSlot(Storage.bf16, length);
      s.codes.set(array);
      return s;
    }
    const bits = new Uint32Array(wide.buffer);
    for (let i = 0; i < length; i++) bits[i] = bf16Widen(array[i]);
  } else {
    // Bits, not numbers: a NaN's payload survives the copy.
    new Uint32Array(wide.buffer).set(new Uint32Array(array.buffer, array.byteOffset, length));
  }
  if (target === Storage.f32) return wide;
  const s = new CompactSlot(target as CompactSlot['storage'], length);
  s.fromFloat32(wide);
  return s;
}
