'use strict';
// Decoder of CloudUplink's columnar batches (format version 1, see ../BATCH-FORMAT.md) for Node 20+, without
// dependencies: usable as it is in a Lambda behind an IoT rule (see handler below).
//
// decode(buffer) -> { batchId, priority, thing, messages: [{ id, seq, enqueuedMs, body, json, reading }] }
//   body     the message's body: for a reading, an object rebuilt from its fields (every value bit-exact, members in
//            the order v, zone, device, metric, value, unit, ts, seq, quality; value null where it was null); for any
//            other record, JSON.parse of its original text (or, if it was not JSON, its bytes in base64, as the
//            earlier gzip JSON batches carried it);
//   json     for a record that was not a reading, its original text (byte-exact as UTF-8), else undefined;
//   reading  true when the record travelled in the columns.
// seq, enqueuedMs and a reading's seq are Numbers when they are safe integers, else BigInts.
// Throws an Error saying what is wrong and where for a corrupt, truncated or unknown batch.

const zlib = require('node:zlib');

const FORMAT_VERSION = 1;
const POWERS_OF_TEN = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const QUALITIES = [undefined, 'good', 'stale', 'bad'];
const utf8 = new TextDecoder('utf-8', { fatal: true });

function isBatch(buffer) {
  return buffer.length >= 4 && buffer[0] === 0x46 && buffer[1] === 0x47 && buffer[2] === 0x42;
}

class Reader {
  constructor(body) {
    this.body = body;
    this.pos = 0;
    this.where = 'the body';
    this.view = new DataView(new ArrayBuffer(8));
  }

  error(what) {
    return new Error(`corrupt batch: ${what}, in ${this.where} at body byte ${this.pos} (of ${this.body.length})`);
  }

  byte() {
    if (this.pos >= this.body.length) {
      throw new Error(`truncated batch: the body ends in ${this.where} (at body byte ${this.pos}, expected more)`);
    }
    return this.body[this.pos++];
  }

  unsignedBig() {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.byte();
      if (shift === 63n && b > 1) throw this.error('a varint is longer than 64 bits');
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return value;
    }
    throw this.error('a varint is longer than 10 bytes');
  }

  signedBig() {
    const u = this.unsignedBig();
    return BigInt.asIntN(64, (u >> 1n) ^ -(u & 1n));
  }

  count(what) {
    const start = this.pos;
    const value = this.unsignedBig();
    const left = this.body.length - this.pos;
    if (value > BigInt(left) && value > 0n) {
      throw new Error(`truncated or corrupt batch: ${what} (${value}) is more than the ${left} bytes left, in ${this.where} at body byte ${start} (of ${this.body.length})`);
    }
    return Number(value);
  }

  bytes(length) {
    if (length > this.body.length - this.pos) {
      throw new Error(`truncated batch: the body ends in ${this.where} (at body byte ${this.pos}, expected more)`);
    }
    const slice = this.body.subarray(this.pos, this.pos + length);
    this.pos += length;
    return slice;
  }

  string() {
    const bytes = this.bytes(this.count("a string's length"));
    try {
      return utf8.decode(bytes);
    } catch {
      throw this.error('a string is not valid UTF-8');
    }
  }

  double(bits) {
    this.view.setBigUint64(0, BigInt.asUintN(64, bits));
    return this.view.getFloat64(0);
  }
}

// Delta-of-delta, wrapping at 64 bits as the encoder's arithmetic does.
function dodColumn(r, n) {
  const out = new Array(n);
  let previous = 0n;
  let delta = 0n;
  for (let i = 0; i < n; i++) {
    delta = BigInt.asIntN(64, delta + r.signedBig());
    previous = BigInt.asIntN(64, previous + delta);
    out[i] = previous;
  }
  return out;
}

function xorColumn(r, n) {
  const out = new Array(n);
  let previous = 0n;
  for (let i = 0; i < n; i++) {
    const control = r.byte();
    const lead = control >> 4;
    const trail = control & 15;
    if (lead + trail > 8 || (lead + trail === 8 && control !== 0x80)) {
      throw r.error(`XOR control byte 0x${control.toString(16).padStart(2, '0')} of record ${i} is not valid`);
    }
    let x = 0n;
    for (let b = 7 - lead; b >= trail; b--) x |= BigInt(r.byte()) << BigInt(b * 8);
    previous ^= x;
    out[i] = r.double(previous);
  }
  return out;
}

const num = (big) => (big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big);

function decode(buffer) {
  if (!(buffer instanceof Uint8Array)) throw new TypeError('decode takes a Buffer or Uint8Array');
  if (!isBatch(buffer)) {
    throw new Error(buffer.length >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b
      ? "not a columnar batch: this is a gzip stream (the 'json' batch encoding)"
      : 'not a columnar batch: it does not start with "FGB"');
  }
  if (buffer[3] !== FORMAT_VERSION) {
    throw new Error(`batch format version ${buffer[3]} is not supported (this decoder reads version ${FORMAT_VERSION})`);
  }
  let body;
  try {
    body = zlib.brotliDecompressSync(buffer.subarray(4), { maxOutputLength: 64 * 1024 * 1024 });
  } catch (e) {
    throw new Error(`corrupt or truncated batch: the compressed body does not decompress (${e.message})`);
  }

  const r = new Reader(body);
  r.where = 'the batch header';
  const batchId = r.string();
  const priority = r.string();
  const thing = r.string();
  const firstSequence = r.signedBig();
  const count = r.count('the record count');
  r.where = 'the string table';
  const strings = new Array(r.count('the string count'));
  for (let i = 0; i < strings.length; i++) strings[i] = r.string();
  const name = (optional) => {
    let index = r.count('a string index');
    if (optional) {
      if (index === 0) return undefined;
      index -= 1;
    }
    if (index >= strings.length) throw r.error(`string index ${index} is outside the table of ${strings.length}`);
    return strings[index];
  };

  const messages = [];
  const message = (sequence, enqueued, body, json, reading) => ({
    id: `${thing}-${sequence}`, seq: num(sequence), enqueuedMs: num(enqueued), body, json, reading, _order: sequence,
  });
  r.where = 'the series count';
  const seriesCount = r.count('the series count');
  for (let s = 0; s < seriesCount; s++) {
    r.where = `series ${s}`;
    const n = r.count("the series' record count");
    const zone = name(false);
    const device = name(false);
    const metric = name(false);
    const unit = name(true);
    const column = (c) => { r.where = `series ${s} (${zone}/${device}/${metric}), column ${c}`; };

    column('seq');
    const sequences = new Array(n);
    let previous = firstSequence;
    for (let i = 0; i < n; i++) {
      previous = BigInt.asIntN(64, previous + r.signedBig());
      sequences[i] = previous;
    }
    column('enqueuedMs');
    const enqueued = dodColumn(r, n);
    column('flags');
    const flags = new Array(n);
    for (let i = 0; i < n; i++) {
      flags[i] = r.byte();
      if (flags[i] > 7) throw r.error(`flags ${flags[i]} of record ${i} are not defined`);
    }
    column('reading seq');
    const readingSeq = dodColumn(r, n);
    column('ts');
    let mode = r.byte();
    let ts;
    if (mode === 0 || mode === 1) {
      const scale = mode === 0 ? 1e3 : 1e6;
      ts = dodColumn(r, n).map((k) => Number(k) / scale);
    } else if (mode === 2) {
      ts = xorColumn(r, n);
    } else {
      throw r.error(`timestamp mode ${mode} is not defined`);
    }
    column('value');
    mode = r.byte();
    let values;
    if (mode === 0) {
      values = xorColumn(r, n);
    } else if (mode === 1) {
      const decimals = r.byte();
      if (decimals >= POWERS_OF_TEN.length) throw r.error(`${decimals} decimals is more than 15`);
      values = new Array(n);
      let m = 0n;
      for (let i = 0; i < n; i++) {
        m = BigInt.asIntN(64, m + r.signedBig());
        values[i] = Number(m) / POWERS_OF_TEN[decimals];
      }
    } else if (mode === 2) {
      const exponent = r.byte();
      if (exponent > 60) throw r.error(`${exponent} binary digits is more than 60`);
      values = new Array(n);
      let m = 0n;
      for (let i = 0; i < n; i++) {
        m = BigInt.asIntN(64, m + r.signedBig());
        values[i] = Number(m) * 2 ** -exponent;
      }
    } else {
      throw r.error(`value mode ${mode} is not defined`);
    }

    for (let i = 0; i < n; i++) {
      const reading = { v: 1, zone, device, metric, value: Number.isNaN(values[i]) ? null : values[i] };
      if (unit !== undefined) reading.unit = unit;
      reading.ts = ts[i];
      if (flags[i] & 4) reading.seq = num(readingSeq[i]);
      const quality = QUALITIES[flags[i] & 3];
      if (quality !== undefined) reading.quality = quality;
      messages.push(message(sequences[i], enqueued[i], reading, undefined, true));
    }
  }

  r.where = 'the generic section';
  const genericCount = r.count('the generic record count');
  let sequence = firstSequence;
  let enqueuedMs = 0n;
  for (let i = 0; i < genericCount; i++) {
    r.where = `generic record ${i}`;
    sequence = BigInt.asIntN(64, sequence + r.signedBig());
    enqueuedMs = BigInt.asIntN(64, enqueuedMs + r.signedBig());
    const kind = r.byte();
    if (kind > 1) throw r.error(`body kind ${kind} is not defined`);
    const bytes = r.bytes(r.count('the body length'));
    let text;
    let body;
    if (kind === 0) {
      try {
        text = utf8.decode(bytes);
        body = JSON.parse(text);
      } catch {
        throw r.error('a JSON body does not parse');
      }
    } else {
      body = Buffer.from(bytes).toString('base64');
    }
    messages.push(message(sequence, enqueuedMs, body, text, false));
  }

  r.where = 'the end of the body';
  if (r.pos !== body.length) throw r.error('bytes follow the last section');
  if (messages.length !== count) {
    throw new Error(`corrupt batch: the header counts ${count} records, the sections hold ${messages.length}`);
  }
  messages.sort((a, b) => (a._order < b._order ? -1 : a._order > b._order ? 1 : 0));
  for (const m of messages) delete m._order;
  return { batchId, priority, thing, messages };
}

// A Lambda behind an IoT rule that selects the binary payload, e.g.
//   SELECT encode(*, 'base64') AS payload, topic() AS topic FROM 'fogline/+/telemetry'
// decodes the batch and returns its messages; a consumer stores them keyed by id, which drops duplicates (a batch
// sent again after a crash or a lost confirmation carries the same ids).
async function handler(event) {
  const batch = decode(Buffer.from(event.payload, 'base64'));
  return { batchId: batch.batchId, count: batch.messages.length, messages: batch.messages.map(({ id, seq, enqueuedMs, body }) => ({ id, seq, enqueuedMs, body })) };
}

module.exports = { decode, isBatch, handler, FORMAT_VERSION };
