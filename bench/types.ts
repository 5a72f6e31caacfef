/** One measured figure; `reference` is the same-run baseline it is compared against. */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly reference?: { readonly name: string; readonly value: number };
  readonly note?: string;
}

/** What every bench module exports. */
export type BenchModule = { run(): Promise<BenchResult[]> };
