/**
 * --tls-cert and --tls-key, checked at startup: given together, readable,
 * PEM, and the key is the certificate's (a wrong pair would otherwise only
 * show as failed handshakes in the browsers).
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

export interface TlsFiles {
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
}

function read(path: string, flag: string): string {
  try {
    return readFileSync(path, "latin1");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "does not exist"
        : code === "EACCES"
          ? "cannot be read (permission denied)"
          : code === "EISDIR"
            ? "is a folder"
            : `cannot be read (${code ?? String(err)})`;
    throw new TlsFileError(`${flag}: ${JSON.stringify(path)} ${why}; expected a readable PEM file`);
  }
}

export class TlsFileError extends Error {}

/** Throws TlsFileError naming the option when the pair cannot serve HTTPS. */
export function checkTlsFiles({ tlsCert, tlsKey }: TlsFiles): void {
  if (tlsCert === null && tlsKey === null) return;
  if (tlsCert === null) throw new TlsFileError("--tls-key: needs --tls-cert, the certificate it belongs to");
  if (tlsKey === null) throw new TlsFileError("--tls-cert: needs --tls-key, the certificate's private key");
  const certText = read(tlsCert, "--tls-cert");
  const keyText = read(tlsKey, "--tls-key");
  if (!certText.includes("-----BEGIN CERTIFICATE-----")) {
    throw new TlsFileError(`--tls-cert: ${JSON.stringify(tlsCert)} is not a PEM certificate; expected a file starting with -----BEGIN CERTIFICATE-----`);
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(keyText)) {
    throw new TlsFileError(
      `--tls-key: ${JSON.stringify(tlsKey)} is encrypted with a passphrase; expected an unencrypted key (openssl pkey -in KEY -out plain.pem)`,
    );
  }
  if (!/-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/.test(keyText)) {
    throw new TlsFileError(`--tls-key: ${JSON.stringify(tlsKey)} is not a PEM private key; expected a file starting with -----BEGIN PRIVATE KEY-----`);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certText);
  } catch {
    throw new TlsFileError(`--tls-cert: ${JSON.stringify(tlsCert)} is not a valid PEM certificate`);
  }
  let key;
  try {
    key = createPrivateKey(keyText);
  } catch {
    throw new TlsFileError(`--tls-key: ${JSON.stringify(tlsKey)} is not a valid PEM private key`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new TlsFileError(`--tls-key: ${JSON.stringify(tlsKey)} is not the private key of the --tls-cert certificate ${JSON.stringify(tlsCert)}`);
  }
}
