/**
 * `pnpm bundle:gpu-check [--out DIR] [--xz-level N] [--libvulkan-deb FILE | --no-libvulkan]`: writes
 * the self-contained GPU check folder (default dist/gpu-check/) for a bare Linux GPU machine; copy
 * it there and run `./run.sh`. See ../gpu-check/bundle.ts for what it holds.
 */
import { runCli, gradsyncProgram } from '@gradsync/core/node';
import { bundleGpuCheck } from '../gpu-check/bundle';

await runCli(async () => {
  const o = gradsyncProgram('pnpm bundle:gpu-check')
    .description('Write a self-contained folder that checks and measures the webgpu backend on a Linux GPU machine')
    .option('--out <dir>', 'output folder (replaced)', 'dist/gpu-check')
    .option('--xz-level <n>', 'xz preset for the Node binary (0-9)', '6')
    .option('--libvulkan-deb <file>', 'carry the Vulkan loader from this libvulkan1 .deb instead of apt-get download')
    .option('--no-libvulkan', 'carry no Vulkan loader')
    .parse()
    .opts<{ out: string; xzLevel: string; libvulkanDeb?: string; libvulkan: boolean }>();
  const report = await bundleGpuCheck({
    outDir: o.out,
    xzLevel: Number(o.xzLevel),
    libvulkanDeb: o.libvulkan ? o.libvulkanDeb : false,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  for (const f of report.files.slice(0, 8)) process.stdout.write(`${mib(f.bytes).padStart(10)}  ${f.path}\n`);
  process.stdout.write(
    `${report.outDir}: ${report.files.length} files, ${mib(report.totalBytes)} (limit 64 MiB)` +
      `${report.carriesVulkanLoader ? ', carries the Vulkan loader' : ', no Vulkan loader carried'}\n` +
      `copy it to the GPU machine and run ./run.sh (quick local check: ./run.sh --batches 8 --reps 1 --warmup 1)\n`,
  );
});
