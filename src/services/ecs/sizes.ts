/** Pure parsing and checks of ECS cpu/memory values (AWS-FACTS §2). */

/** "1024", "1 vCPU", "0.25 vcpu" → cpu units; undefined when unparseable. */
export function parseCpu(value: string): number | undefined {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const m = /^(\d+(?:\.\d+)?)\s*vcpu$/i.exec(v);
  return m ? Math.round(Number(m[1]) * 1024) : undefined;
}

/** "2048", "2GB", "2 GB", "512 MiB" → MiB; undefined when unparseable. */
export function parseMemory(value: string): number | undefined {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const m = /^(\d+(?:\.\d+)?)\s*(gb|gib|mb|mib)$/i.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  return /^g/i.test(m[2]) ? Math.round(n * 1024) : Math.round(n);
}

const range = (from: number, to: number, step: number) => {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
};

/** Valid Fargate memory values (MiB) for each task cpu value. */
export const FARGATE_SIZES: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

export const isValidFargateSize = (cpu: number, memory: number) => FARGATE_SIZES[cpu]?.includes(memory) ?? false;
