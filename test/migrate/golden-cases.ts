/** The golden cases: options per input and the warnings and renames each must report (hand-derived). */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** test/migrate/golden in the source tree (tests run from dist/). */
export const goldenDir = join(fileURLToPath(new URL('.', import.meta.url)), '../../../test/migrate/golden');

export interface GoldenCase {
  readonly name: string;
  readonly desc: string;
  readonly onlyData: boolean;
  readonly passwordSecrets: boolean;
  /** Warning code and the line (in the input file) it points at, top to bottom. */
  readonly warnings: readonly { readonly code: string; readonly line: number | undefined }[];
  readonly renames: readonly string[];
}

export const goldenCases: readonly GoldenCase[] = [
  {
    name: 'peers',
    desc: 'every peer field, hold-time default and truncation, keepalive only when set, BFD profiles',
    onlyData: false,
    passwordSecrets: false,
    warnings: [{ code: 'plain-password', line: 22 }],
    renames: [],
  },
  {
    name: 'pools',
    desc: 'pools, advertisements and their numbering, defaults, one sorted Community',
    onlyData: false,
    passwordSecrets: false,
    warnings: [],
    renames: [],
  },
  {
    name: 'names',
    desc: 'v0.13.11+ name conversion of pools, BFD profiles and references',
    onlyData: false,
    passwordSecrets: false,
    warnings: [
      { code: 'bfd-profile-renamed', line: 18 },
      { code: 'pool-renamed', line: 21 },
      { code: 'pool-renamed', line: 25 },
      { code: 'pool-renamed', line: 29 },
      { code: 'pool-renamed', line: 35 },
    ],
    renames: [
      'pool 01-numbered-addresspool -> numbered-addresspool',
      'pool Capitalized_AddressPool -> capitalized-addresspool',
      'pool TooLongPoolName01-toolongpoolname02-toolongpoolname03-toolongpoolname04 -> toolongpoolname01-toolongpoolname02-toolongpoolname03-toolongpo',
      'pool 9_lives -> lives',
      'bfd-profile Underscored_BFD_Profile -> underscored-bfd-profile',
    ],
  },
  {
    name: 'lenient',
    desc: 'bare payload, unknown keys dropped, unknown protocols converted without L2Advertisement',
    onlyData: true,
    passwordSecrets: false,
    warnings: [
      { code: 'unknown-key', line: 8 },
      { code: 'unknown-protocol', line: 11 },
      { code: 'unknown-key', line: 12 },
      { code: 'unknown-protocol', line: 16 },
    ],
    renames: [],
  },
  {
    name: 'password-secrets',
    desc: '--password-secrets: basic-auth Secrets before the peers, referenced by passwordSecret',
    onlyData: false,
    passwordSecrets: true,
    warnings: [],
    renames: [],
  },
];
