import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The key file in the data directory; whoever can read it can read every stored secret. */
export const KEY_FILE = "secrets.key";

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for values at rest (SecureString parameters, secrets, access key secrets) and for
 * session tokens. Sealed text is `v1.<base64url(iv | tag | ciphertext)>`; the purpose string is
 * bound in as additional data, so a value sealed for one use cannot be replayed as another.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error("SecretBox needs a 32-byte key");
  }

  /** The box whose key lives in `<dataDir>/secrets.key`, created (mode 0600) on first use. */
  static forDataDir(dataDir: string): SecretBox {
    const file = join(dataDir, KEY_FILE);
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(file, randomBytes(32).toString("base64"), { mode: 0o600, flag: "wx" });
    }
    const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
    try {
      chmodSync(file, 0o600);
    } catch {
      // not ours to change (read-only data dir): the key is still usable
    }
    return new SecretBox(key);
  }

  seal(plaintext: string | Buffer, purpose: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
  }

  /** The plaintext, or undefined when the text was not sealed by this key for this purpose. */
  open(sealed: string, purpose: string): Buffer | undefined {
    if (!sealed.startsWith("v1.")) return undefined;
    const raw = Buffer.from(sealed.slice(3), "base64url");
    if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      return undefined;
    }
  }

  openText(sealed: string, purpose: string): string | undefined {
    return this.open(sealed, purpose)?.toString("utf8");
  }
}
