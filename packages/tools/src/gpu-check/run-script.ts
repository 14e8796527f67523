/**
 * run.sh of the GPU check folder (bundle.ts): POSIX sh, for a bare Linux machine. It says plainly
 * what is missing (xz, the Vulkan loader, a Vulkan driver) before Dawn's own warnings do.
 */
export function runScript(o: { nodeVersion: string }): string {
  return `#!/bin/sh
# gradsync GPU check: WebGPU (Dawn, through Vulkan) under TensorFlow.js on this machine's GPU.
# Usage: ./run.sh [--gpu N] [--batches 64,256,1024] [--reps 5] [--warmup 2] [--kernel-batch 8]
# Needs Linux x64 with glibc >= 2.34 and libstdc++ >= GCC 12 (dawn.node's), e.g. Ubuntu 22.04+ or
# Debian 12+, and the GPU driver's Vulkan part. Everything else is in this folder.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

if [ ! -x ./node ]; then
  echo "unpacking Node ${o.nodeVersion} (node.xz)..."
  if command -v xz >/dev/null 2>&1; then
    xz -dc node.xz > node.partial
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import lzma, shutil; shutil.copyfileobj(lzma.open("node.xz"), open("node.partial", "wb"))'
  else
    echo "cannot unpack node.xz: neither xz nor python3 is installed (Debian/Ubuntu: apt-get install xz-utils)" >&2
    exit 1
  fi
  chmod 755 node.partial
  mv node.partial node
fi

echo "glibc $(getconf GNU_LIBC_VERSION 2>/dev/null | cut -d' ' -f2 || echo unknown) (dawn.node needs 2.34 or newer)"
if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L || true; fi

# The Vulkan loader, found the way dawn.node will look for it.
has_loader() {
  ./node -e 'try { process.dlopen({ exports: {} }, "libvulkan.so.1"); } catch (e) { process.exit(/self-register/.test(e.message) ? 0 : 1); }'
}
if has_loader; then
  echo "Vulkan loader: libvulkan.so.1 found"
elif [ -f vulkan/libvulkan.so.1 ]; then
  echo "Vulkan loader: libvulkan.so.1 is NOT installed on this machine (apt-get install libvulkan1);"
  echo "  using the copy in ./vulkan ($(cat vulkan/VERSION 2>/dev/null || echo 'Debian libvulkan1'))"
  LD_LIBRARY_PATH="$here/vulkan\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LD_LIBRARY_PATH
else
  echo "Vulkan loader: libvulkan.so.1 is NOT installed on this machine and this folder carries none:"
  echo "  WebGPU cannot use Vulkan here (Debian/Ubuntu: apt-get install libvulkan1)"
fi

# Vulkan drivers (ICDs) are found through JSON manifests.
if [ -n "\${VK_ICD_FILENAMES:-}\${VK_DRIVER_FILES:-}" ]; then
  echo "Vulkan drivers: from VK_ICD_FILENAMES/VK_DRIVER_FILES: \${VK_ICD_FILENAMES:-}\${VK_DRIVER_FILES:-}"
else
  icds=$(ls /etc/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/*.json /usr/local/share/vulkan/icd.d/*.json 2>/dev/null | tr '\\n' ' ' || true)
  if [ -n "$icds" ]; then
    echo "Vulkan drivers: $icds"
  else
    echo "Vulkan drivers: NONE (no ICD manifest in /etc/vulkan/icd.d or /usr/share/vulkan/icd.d): the GPU driver's"
    echo "  Vulkan part is missing. NVIDIA: the driver installs nvidia_icd.json; in a container,"
    echo "  NVIDIA_DRIVER_CAPABILITIES must include graphics (e.g. =all; the default compute,utility leaves Vulkan out)."
  fi
fi
echo

exec ./node gpu-check.mjs "$@"
`;
}
