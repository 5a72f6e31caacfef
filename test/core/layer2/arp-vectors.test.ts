/**
 * MetalLB v0.11's TestARPResponder table and the derived gratuitous-ARP frame bytes (vectors `layer2_arp`),
 * through the shared conformance contract (unlisted mismatch or stale deviation fails).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVectors, runVectorSuite, type VectorOutcome } from '../../conformance/vectors.js';
import {
  ARP_REPLY, answerFrame, encodeArpFrame, formatMac, gratuitousFrames, ipBytes, ipv4String, parseArp, parseEthernet,
  parseMac, BROADCAST_MAC, ARP_REQUEST,
} from '../../../src/core/layer2/index.js';

interface ResponderVector {
  readonly id: string;
  readonly input: { op: 'request' | 'reply'; eth_dst: string; target_ip: string; target_announced: boolean; sender_mac: string; sender_ip: string };
  readonly expect: { drop_reason: string; sends_reply: boolean; reply?: { eth_dst: string; arp_op: string; sender_mac: string; sender_ip: string; target_mac: string; target_ip: string } };
}
interface GratuitousVector {
  readonly id: string;
  readonly input: { ip: string; interface_mac: string };
  readonly expect_frames_hex: readonly string[];
}
type Vector = ResponderVector | GratuitousVector;

const IFACE_MAC = '02:aa:bb:cc:dd:ee';

function checkResponder(v: ResponderVector): VectorOutcome {
  const mac = parseMac(IFACE_MAC)!;
  const sender = parseMac(v.input.sender_mac)!;
  const frame = encodeArpFrame({
    ethDst: v.input.eth_dst === 'self' ? mac : parseMac(v.input.eth_dst)!, ethSrc: sender,
    op: v.input.op === 'request' ? ARP_REQUEST : ARP_REPLY,
    senderMac: sender, senderIp: ipBytes(v.input.sender_ip)!, targetMac: Buffer.alloc(6), targetIp: ipBytes(v.input.target_ip)!,
  });
  const out = answerFrame(frame, mac, (ip) => ip === v.input.target_ip && v.input.target_announced);
  const expectedReason = v.expect.drop_reason.startsWith('(reason returned by announcer') ? 'AnnounceIP' : v.expect.drop_reason;
  const gotReason = out.kind === 'reply' ? 'None' : out.reason;
  if (gotReason !== expectedReason) return { match: false, diff: `drop reason ${gotReason}, want ${expectedReason}` };
  if ((out.kind === 'reply') !== v.expect.sends_reply) return { match: false, diff: `sends_reply ${out.kind === 'reply'}` };
  if (out.kind === 'reply') {
    const r = v.expect.reply!;
    const eth = parseEthernet(out.frame)!;
    const arp = parseArp(eth.payload)!;
    const got = {
      eth_dst: formatMac(eth.dst), arp_op: arp.op === ARP_REPLY ? 'reply' : String(arp.op),
      sender_mac: formatMac(arp.senderMac) === IFACE_MAC ? '<interface MAC>' : formatMac(arp.senderMac),
      sender_ip: ipv4String(arp.senderIp, 0), target_mac: formatMac(arp.targetMac), target_ip: ipv4String(arp.targetIp, 0),
    };
    try { assert.deepEqual(got, r); } catch (err) { return { match: false, diff: (err as Error).message }; }
    if (formatMac(eth.src) !== IFACE_MAC) return { match: false, diff: 'Ethernet source is not the interface MAC' };
  }
  return { match: true };
}

function checkGratuitous(v: GratuitousVector): VectorOutcome {
  const got = gratuitousFrames(v.input.ip, parseMac(v.input.interface_mac)!).map((f) => f.toString('hex'));
  try { assert.deepEqual(got, v.expect_frames_hex); } catch (err) { return { match: false, diff: (err as Error).message }; }
  return { match: true };
}

test('layer2_arp vectors: ARP responder decisions and gratuitous ARP bytes', () => {
  const vectors = loadVectors()['layer2_arp'] as Vector[];
  assert.ok(vectors.length >= 7);
  runVectorSuite('layer2_arp', vectors, (v) => v.id, (v) => ('expect_frames_hex' in v ? checkGratuitous(v) : checkResponder(v)));
});

test('gratuitous ARP frames use broadcast for the Ethernet destination and the target MAC', () => {
  const frames = gratuitousFrames('192.0.2.100', parseMac('02:00:00:00:00:12')!);
  assert.equal(frames.length, 2);
  for (const f of frames) {
    assert.equal(formatMac(parseEthernet(f)!.dst), formatMac(BROADCAST_MAC));
    assert.equal(formatMac(parseArp(parseEthernet(f)!.payload)!.targetMac), 'ff:ff:ff:ff:ff:ff');
  }
});
