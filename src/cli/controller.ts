/**
 * `metallb-ts controller [flags]`: MetalLB's controller (allocates LoadBalancer IPs). Loaded on demand by
 * src/cli/main.ts; the controller module (and with it @kubernetes/client-node) is imported only here, lazily.
 */
export async function run(argv: string[]): Promise<number> {
  const { main } = await import('../controller/main.js');
  return main(argv);
}
