import { describe, expect } from 'vitest';
import { backendInfo } from '../lib';
import { itUnless } from './helpers';

// The suite's bitwise tests compare against every ISA the addon reports. If the addon silently
// failed to load, they would compare js with nothing: this makes that a failure, not a pass.
describe('test environment', () => {
  const jsOnly = process.env.ADAM_NATIVE_ALLOW_JS_ONLY === '1';
  itUnless([jsOnly, 'ADAM_NATIVE_ALLOW_JS_ONLY=1'])('has the native addon loaded', () => {
    const info = backendInfo();
    expect(info.native.error).toBeNull();
    expect(info.native.loaded).toBe(true);
    expect(info.supportedIsas).toContain('sse2');
  });
});
