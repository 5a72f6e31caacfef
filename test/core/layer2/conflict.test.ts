// Split-brain probing frames and claim reading (src/core/layer2/conflict.ts): the probes are answered by the real
// responder of another node, and that answer (or the kernel's, golden bytes) is read back as a claim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerFrame, claimInFrame, gratuitousFrames, parseEthernet, parseIpv6, parseMac, parseNeighborAdvertisement,
  parseNeighborSolicitation, probeFrames,
} from '../../../src/core/layer2/index.js';
import { buildNs } from '../../helpers/ndp-frames.js';
import { prng } from '../../helpers/prng.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const macA = parseMac('02:00:00:00:00:0a')!;
const macB = parseMac('02:00:00:00:00:0b')!;
const ownA = (mac: string) => mac === '02:00:00:00:00:0a';
const owns = (ips: string[]) => (ip: string) => ips.includes(ip);

test('the IPv4 probe is an RFC 5227 ARP Probe: broadcast request, sender IP 0.0.0.0, target MAC zero', () => {
  const [frame, ...rest] = probeFrames('192.0.2.100', macA);
  assert.equal(rest.length, 0);
  assert.equal(frame!.toString('hex'), hex(`ffff ffff ffff 0200 0000 000a 0806 0001 0800 0604 0001 0200 0000 000a 0000 0000
    0000 0000 0000 c000 0264`).toString('hex'));
});

test('another node answering our ARP Probe is a claim naming its MAC; our own answer is not', () => {
  const [probe] = probeFrames('192.0.2.100', macA);
  const answer = answerFrame(probe!, macB, owns(['192.0.2.100']));
  assert.equal(answer.kind, 'reply');
  if (answer.kind !== 'reply') return;
  assert.deepEqual(claimInFrame(answer.frame, ownA, owns(['192.0.2.100'])), { ip: '192.0.2.100', mac: '02:00:00:00:00:0b' });
  // The same reply seen by a node that has B's MAC as its own (its other NIC), or that does not own the IP.
  assert.equal(claimInFrame(answer.frame, (m) => m === '02:00:00:00:00:0b', owns(['192.0.2.100'])), undefined);
  assert.equal(claimInFrame(answer.frame, ownA, owns(['192.0.2.101'])), undefined);
});

test('a gratuitous ARP from another node for our IP is a claim; an ordinary request and the probe itself are not', () => {
  for (const frame of gratuitousFrames('192.0.2.100', macB)) {
    assert.deepEqual(claimInFrame(frame, ownA, owns(['192.0.2.100'])), { ip: '192.0.2.100', mac: '02:00:00:00:00:0b' });
  }
  const [probeFromB] = probeFrames('192.0.2.100', macB);
  assert.equal(claimInFrame(probeFromB!, ownA, owns(['192.0.2.100'])), undefined, 'a probe from 0.0.0.0 claims nothing');
  // arping from a client asking for our IP (sender = the client's IP).
  const request = hex(`ffff ffff ffff 0200 0000 000c 0806 0001 0800 0604 0001 0200 0000 000c c000 020c 0000 0000 0000 c000 0264`);
  assert.equal(claimInFrame(request, ownA, owns(['192.0.2.100'])), undefined);
});

test('the IPv6 probe is a valid Neighbor Solicitation from the IP with our MAC as SLLA, to its solicited-node group', () => {
  const [frame, ...rest] = probeFrames('2001:db8::100', macA);
  assert.equal(rest.length, 0);
  const eth = parseEthernet(frame!)!;
  assert.equal(Buffer.from(eth.dst).toString('hex'), '3333ff000100');
  const ns = parseNeighborSolicitation(parseIpv6(eth.payload)!);
  assert.notEqual(typeof ns, 'string');
  if (typeof ns === 'string') return;
  assert.equal(Buffer.from(ns.target).toString('hex'), '20010db8000000000000000000000100');
  assert.equal(Buffer.from(ns.sourceLla!).toString('hex'), '02000000000a');
  // Byte for byte what the test helper builds for the same NS (independent checksum code path).
  assert.equal(frame!.toString('hex'), buildNs({ src: '2001:db8::100', target: '2001:db8::100', slla: macA }).toString('hex'));
});

test('another node answering our NS is a claim; so is the kernel NA of the golden capture', () => {
  const [probe] = probeFrames('2001:db8::100', macA);
  const answer = answerFrame(probe!, macB, owns(['2001:db8::100']));
  assert.equal(answer.kind, 'reply');
  if (answer.kind !== 'reply') return;
  assert.deepEqual(claimInFrame(answer.frame, ownA, owns(['2001:db8::100'])), { ip: '2001:db8::100', mac: '02:00:00:00:00:0b' });
  const kernelNa = hex(`0200 0000 000a 0200 0000 000b 86dd 6000 0000 0020 3aff 2001 0db8 0000 0000 0000
    0000 0000 000b fe80 0000 0000 0000 0000 00ff fe00 000a 8800 ba85 6000 0000 2001
    0db8 0000 0000 0000 0000 0000 000b 0201 0200 0000 000b`);
  assert.deepEqual(claimInFrame(kernelNa, ownA, owns(['2001:db8::b'])), { ip: '2001:db8::b', mac: '02:00:00:00:00:0b' });
  const na = parseNeighborAdvertisement(parseIpv6(parseEthernet(kernelNa)!.payload)!);
  assert.equal(Buffer.from(na!.targetLla!).toString('hex'), '02000000000b');
  // A corrupted checksum is not an NA.
  const bad = Buffer.from(kernelNa); bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
  assert.equal(claimInFrame(bad, ownA, owns(['2001:db8::b'])), undefined);
  // An unsolicited NA (another node's gratuitous announcement) is a claim too.
  const [unsolicited] = gratuitousFrames('2001:db8::100', macB);
  assert.deepEqual(claimInFrame(unsolicited!, ownA, owns(['2001:db8::100'])), { ip: '2001:db8::100', mac: '02:00:00:00:00:0b' });
});

test('claimInFrame never throws and claims nothing from random or truncated frames', () => {
  const rnd = prng(11);
  const seeds = [...probeFrames('192.0.2.100', macB), ...gratuitousFrames('2001:db8::100', macB)];
  let claims = 0;
  for (let i = 0; i < 20_000; i++) {
    const seed = seeds[i % seeds.length]!;
    const f = Buffer.from(seed.subarray(0, Math.floor(rnd() * (seed.length + 1))));
    for (let k = 0; k < 3; k++) if (f.length > 0) f[Math.floor(rnd() * f.length)] = Math.floor(rnd() * 256);
    const c = claimInFrame(f, ownA, owns(['192.0.2.100', '2001:db8::100']));
    if (c !== undefined) { claims++; assert.ok(c.mac !== '02:00:00:00:00:0a'); }
  }
  assert.ok(claims < 20_000);
});
