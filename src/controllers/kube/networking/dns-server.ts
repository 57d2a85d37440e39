import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import dnsPacket, { type Packet } from "dns-packet";
import type { Logger } from "../../../core/logger.js";
import { type DnsIndex, respond } from "./dns.js";

const REFUSED = 5;
const FORMERR = 1;
const TCP_IDLE_MS = 10_000;
/** Classic DNS over UDP: longer answers are truncated (TC) and the client asks again over TCP. */
const UDP_LIMIT = 512;

/** Which cluster's zone answers a query from this address (undefined: REFUSED). */
export type IndexFor = (remoteAddress: string, localAddress: string) => DnsIndex | undefined;

/**
 * The cluster DNS server: UDP and TCP on port 53 of the addresses it is told to serve (the kube-dns
 * ClusterIP, the bridge gateways). Each query is answered from the asking cluster's index.
 */
export class DnsServer {
  private readonly bound = new Map<string, { udp: UdpSocket; tcp: Server; sockets: Set<Socket> }>();

  constructor(
    private readonly indexFor: IndexFor,
    private readonly logger: Logger,
    private readonly port = 53,
  ) {}

  addresses(): string[] {
    return [...this.bound.keys()];
  }

  async listen(address: string): Promise<void> {
    if (this.bound.has(address)) return;
    const udp = createSocket({ type: "udp4" });
    const sockets = new Set<Socket>();
    const tcp = createServer((s) => this.serveTcp(s, address, sockets));
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind({ address, port: this.port, exclusive: true }, () => {
        udp.off("error", reject);
        resolve();
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen({ host: address, port: this.port, exclusive: true }, () => {
          tcp.off("error", reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      throw e;
    }
    udp.on("error", (err) => this.logger.warn({ address, err: err.message }, "cluster DNS socket error"));
    udp.on("message", (msg, rinfo) => {
      const reply = this.answer(msg, rinfo.address, address, UDP_LIMIT);
      if (reply) udp.send(reply, rinfo.port, rinfo.address);
    });
    this.bound.set(address, { udp, tcp, sockets });
  }

  async close(address: string): Promise<void> {
    const b = this.bound.get(address);
    if (!b) return;
    this.bound.delete(address);
    b.udp.close();
    for (const s of b.sockets) s.destroy();
    await new Promise<void>((resolve) => b.tcp.close(() => resolve()));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.bound.keys()].map((a) => this.close(a)));
  }

  private answer(msg: Buffer, remote: string, local: string, maxBytes: number | undefined): Buffer | undefined {
    let query: Packet & { opcode?: string };
    try {
      query = dnsPacket.decode(msg);
    } catch {
      if (msg.length < 12) return undefined;
      // An undecodable query still gets FORMERR with its id.
      const reply = Buffer.alloc(12);
      msg.copy(reply, 0, 0, 2);
      reply.writeUInt16BE(0x8000 | FORMERR, 2);
      return reply;
    }
    if (query.type === "response") return undefined;
    const index = this.indexFor(remote, local);
    if (!index) {
      return dnsPacket.encode({
        type: "response",
        id: query.id ?? 0,
        flags: ((query.flags ?? 0) & (1 << 8)) | REFUSED,
        questions: query.questions ?? [],
      });
    }
    return dnsPacket.encode(respond(index, query, { maxBytes }));
  }

  private serveTcp(socket: Socket, local: string, sockets: Set<Socket>) {
    sockets.add(socket);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const len = buffered.readUInt16BE(0);
        if (buffered.length < len + 2) break;
        const msg = buffered.subarray(2, len + 2);
        buffered = buffered.subarray(len + 2);
        const reply = this.answer(msg, socket.remoteAddress ?? "", local, undefined);
        if (!reply) continue;
        const framed = Buffer.alloc(reply.length + 2);
        framed.writeUInt16BE(reply.length, 0);
        reply.copy(framed, 2);
        socket.write(framed);
      }
    });
  }
}
