/**
 * A minimal static ELF executable that sleeps forever (the `pause` of a task's network
 * namespace), built in memory so Berth needs no image from a registry to run awsvpc tasks.
 */
const CODE: Record<string, { machine: number; code: number[] }> = {
  // loop: mov eax, 34 (pause); syscall; jmp loop
  x64: { machine: 0x3e, code: [0xb8, 0x22, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7] },
  // loop: mov x0..x3, #0; mov x8, #73 (ppoll); svc #0; b loop
  arm64: {
    machine: 0xb7,
    code: [0xd2800000, 0xd2800001, 0xd2800002, 0xd2800003, 0xd2800928, 0xd4000001, 0x17fffffa].flatMap((w) => [
      w & 0xff,
      (w >>> 8) & 0xff,
      (w >>> 16) & 0xff,
      (w >>> 24) & 0xff,
    ]),
  },
};

export function pauseBinary(arch: string = process.arch): Buffer {
  const spec = CODE[arch];
  if (!spec) throw new Error(`no pause binary for architecture ${arch}`);
  const base = 0x400000;
  const headerSize = 64 + 56;
  const buf = Buffer.alloc(headerSize + spec.code.length);
  // ELF header
  buf.write("\x7fELF", 0, "latin1");
  buf[4] = 2; // 64-bit
  buf[5] = 1; // little endian
  buf[6] = 1; // version
  buf.writeUInt16LE(2, 16); // ET_EXEC
  buf.writeUInt16LE(spec.machine, 18);
  buf.writeUInt32LE(1, 20);
  buf.writeBigUInt64LE(BigInt(base + headerSize), 24); // entry
  buf.writeBigUInt64LE(64n, 32); // program header offset
  buf.writeUInt16LE(64, 52); // header size
  buf.writeUInt16LE(56, 54); // program header entry size
  buf.writeUInt16LE(1, 56); // one program header
  // Program header: PT_LOAD, R+X, whole file at base
  buf.writeUInt32LE(1, 64);
  buf.writeUInt32LE(5, 68);
  buf.writeBigUInt64LE(0n, 72);
  buf.writeBigUInt64LE(BigInt(base), 80);
  buf.writeBigUInt64LE(BigInt(base), 88);
  buf.writeBigUInt64LE(BigInt(buf.length), 96);
  buf.writeBigUInt64LE(BigInt(buf.length), 104);
  buf.writeBigUInt64LE(0x1000n, 112);
  Buffer.from(spec.code).copy(buf, headerSize);
  return buf;
}
