/**
 * `metallb-ts speaker [flags]`: MetalLB's speaker (announces LoadBalancer IPs; layer 2 today). Loaded on demand by
 * src/cli/main.ts; the speaker module (and with it @kubernetes/client-node and cap) is imported only here, lazily.
 */
export async function run(argv: string[]): Promise<number> {
  const { main } = await import('../speaker/main.js');
  return main(argv);
}
