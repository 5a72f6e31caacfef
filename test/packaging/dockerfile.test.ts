// Static checks of the Dockerfile against what the manifests and the chart rely on. The built image itself is
// checked by scripts/build-image.sh after every build (user 65534:65534, cap's libpcap binding loads, `--help`
// runs): building it takes minutes when cold, so npm test does not (docs/packaging.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { repoRoot } from '../../src/testing/cluster/binaries.js';

const root = repoRoot();

interface Stage { from: string; lines: string[] }

/** The Dockerfile's stages: each FROM and its instructions (continuation lines joined, comments dropped). */
export function stages(dockerfile: string): Stage[] {
  const joined = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const out: Stage[] = [];
  for (const line of joined) {
    const from = /^FROM\s+(\S+)/i.exec(line);
    if (from) out.push({ from: from[1]!, lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

test('stages() splits a Dockerfile into its stages', () => {
  assert.deepEqual(stages('# c\nFROM a AS b\nRUN x \\\n y\nFROM c\nUSER 1\n'), [
    { from: 'a', lines: ['RUN x   y'] },
    { from: 'c', lines: ['USER 1'] },
  ]);
});

test('the runtime stage has libpcap, runs as 65534:65534 and starts the CLI; the build stage checks cap built', () => {
  const all = stages(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  assert.equal(all.length, 2);
  const [build, runtime] = all as [Stage, Stage];
  assert.equal(build.from, 'node:20-bookworm');
  assert.ok(build.lines.some((l) => /npm ci\b.*test -f node_modules\/cap\/build\/Release\/cap\.node/.test(l)), 'build stage asserts cap.node');
  assert.equal(runtime.from, 'node:20-bookworm-slim');
  assert.ok(runtime.lines.some((l) => /^RUN .*apt-get install .*\blibpcap0\.8\b/.test(l)), 'runtime installs libpcap0.8');
  assert.ok(runtime.lines.some((l) => /rm -rf \/var\/lib\/apt\/lists/.test(l)), 'runtime drops apt lists');
  const users = runtime.lines.filter((l) => /^USER\s/.test(l));
  assert.deepEqual(users, ['USER 65534:65534']);
  assert.ok(runtime.lines.includes('ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]'));
});

test('the manifests rely on that user: controller runs as 65534 non-root, speaker as 0 with only NET_RAW', () => {
  const objects = yaml.loadAll(readFileSync(join(root, 'manifests', 'metallb.yaml'), 'utf8')) as Array<{ kind: string; spec?: any }>;
  const pod = (kind: string) => objects.find((o) => o.kind === kind)!.spec.template.spec;
  assert.deepEqual(pod('Deployment').securityContext, { runAsNonRoot: true, runAsUser: 65534, fsGroup: 65534 });
  const speaker = pod('DaemonSet').containers[0].securityContext;
  assert.equal(speaker.runAsUser, 0);
  assert.deepEqual(speaker.capabilities, { drop: ['ALL'], add: ['NET_RAW'] });
});
