/**
 * capture/: reading and writing capture files. `openCapture(path)` streams a pcap or pcapng file (the
 * magic decides) frame by frame through one reused frame object; `PcapWriter` and `PcapngWriter` write
 * them. Damage never throws: the reader stops with `error` after every frame before it.
 */
export { openCapture, openCaptureBytes } from './reader.js';
export type { CaptureFormat, CaptureFrame, CaptureReader, CaptureReaderOptions, CaptureStats, InterfaceInfo } from './frame.js';
export { DEFAULT_MAX_RECORD_BYTES, STANDARD_MAX_PACKET } from './frame.js';
export type { CaptureError } from './errors.js';
export { PCAP_MAGIC } from './pcap.js';
export { BLOCK_TYPE } from './pcapng.js';
export { PcapWriter, PcapngWriter } from './writer.js';
export type { PacketInput, PcapWriterOptions, PcapngWriterOptions, InterfaceOptions } from './writer.js';
export { FdSink, MemorySink } from './sink.js';
export type { ByteSink } from './sink.js';
export { formatEpoch, tsResolution } from './timestamp.js';
export type { TsResolution } from './timestamp.js';
export { DEFAULT_CHUNK_SIZE } from './source.js';
export { openLive, copyFrame, isLiveError, capLoadError, LIVE_MIN_BUFFER_SIZE, LIVE_MAX_SNAPLEN } from './live.js';
export type { LiveCapture, LiveDirection, LiveError, LiveErrorCode, LiveFrame, LiveFrameHandler, LiveOptions, LiveStats } from './live.js';
export { attach, realClock, cryptoRandom, randomLocalMac, canonicalAddress, interfaceOwning } from './live-host.js';
export type { AttachOptions, AttachedHost, AttachStats, LiveSocketCalls, WireFrame } from './live-host.js';
