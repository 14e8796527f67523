import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Finding out why Dawn offers no adapter. Dawn says why only in warnings its native code writes
 * straight to the process's stderr (e.g. "Vulkan shaderUniform*ArrayDynamicIndexing required"
 * for Mesa's lavapipe, "vkCreateInstance: Found no drivers!"), which JavaScript cannot read; so,
 * only after a failure, the same request is repeated in a short child process whose stderr we keep.
 */

/** Whether the dynamic linker can load `name` (e.g. 'libvulkan.so.1'), the way dawn.node will. */
export function canLoadSharedLibrary(name: string): boolean {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, name);
    return true;
  } catch (err) {
    // Found and loaded, but not a Node addon: that is all we wanted to know.
    return /did not self-register|Module did not/i.test((err as Error).message);
  }
}

/** The first line of each of Dawn's "Warning: ..." messages in `stderr`, without repeats. */
export function parseDawnWarnings(stderr: string): string[] {
  const out: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^Warning:\s*(.+?)\s*$/.exec(line);
    if (m == null) continue;
    // Noise, not a reason: printed for every working OpenGL ES adapter.
    if (/artificially reduced/.test(m[1]!)) continue;
    if (!out.includes(m[1]!)) out.push(m[1]!);
  }
  return out;
}

const PROBE = `
const { create, globals } = await import(process.env.GRADSYNC_WEBGPU_URL);
Object.assign(globalThis, globals);
const gpu = create(JSON.parse(process.env.GRADSYNC_DAWN_FLAGS));
await gpu.requestAdapter(JSON.parse(process.env.GRADSYNC_DAWN_OPTIONS)).catch(() => null);
process.exit(0);
`;

/**
 * Dawn's warnings for `create(flags).requestAdapter(options)`, from a child process (about a
 * second); [] if it cannot be run.
 */
export function dawnWarningsFor(flags: string[], options: Record<string, unknown>, env: Record<string, string | undefined>): string[] {
  let url: string;
  try {
    url = pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;
  } catch {
    return [];
  }
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], {
    env: { ...env, GRADSYNC_WEBGPU_URL: url, GRADSYNC_DAWN_FLAGS: JSON.stringify(flags), GRADSYNC_DAWN_OPTIONS: JSON.stringify(options) },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return parseDawnWarnings(`${result.stdout ?? ''}\n${result.stderr ?? ''}`);
}
