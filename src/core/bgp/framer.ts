/**
 * Splits a TCP byte stream into whole BGP messages, apart from any parsing of their bodies (architecture §4
 * convention 3). Only the fixed header is checked here, because framing needs it (RFC 4271 §6.1): the
 * all-ones marker (else Connection Not Synchronized) and a Length within 19..4096 (else Bad Message
 * Length, data = the Length field). Everything else is the decoder's job.
 */
import { ErrorCode, HEADER_LENGTH, HeaderSubcode, MAX_MESSAGE_LENGTH } from './constants.js';
import { type BgpError, bgpError } from './error.js';

/** What one `push` yields: the complete messages, in order, and the framing error that ended the stream. */
export interface FramerOutput {
  readonly frames: Buffer[];
  readonly error?: BgpError;
}

const MARKER_LENGTH = 16;

/**
 * A stateful splitter: `push(chunk)` returns every message completed by `chunk` (each a Buffer of the whole
 * message, header included). After an error the stream is unusable (the session must be reset), so later
 * pushes return nothing. Feeding a stream split at any byte yields the same frames.
 */
export class BgpFramer {
  private pending: Buffer = Buffer.alloc(0);
  private failed = false;

  /** Bytes received but not yet part of a whole message. */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): FramerOutput {
    if (this.failed) return { frames: [] };
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let at = 0;
    for (;;) {
      const left = buf.length - at;
      const markerBytes = Math.min(left, MARKER_LENGTH);
      for (let i = 0; i < markerBytes; i++) {
        if (buf[at + i] !== 0xff) return this.fail(frames, bgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, 'synchronization error, incorrect header marker'));
      }
      if (left < MARKER_LENGTH + 2) break;
      const length = buf.readUInt16BE(at + MARKER_LENGTH);
      if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
        return this.fail(frames, bgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, `bad message length ${length}`, buf.subarray(at + MARKER_LENGTH, at + MARKER_LENGTH + 2)));
      }
      if (left < length) break;
      frames.push(buf.subarray(at, at + length));
      at += length;
    }
    // Copy the remainder so a retained partial message does not pin a large chunk.
    this.pending = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
    return { frames };
  }

  private fail(frames: Buffer[], error: BgpError): FramerOutput {
    this.failed = true;
    this.pending = Buffer.alloc(0);
    return { frames, error: { ...error, data: Buffer.from(error.data) } };
  }
}
