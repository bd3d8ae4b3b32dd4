// A throwaway certificate authority and a server certificate for 127.0.0.1, made with the
// openssl command line, for Redis over TLS in tests. Nothing is committed: the keys live in a
// temporary folder for the run.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TlsFiles { dir: string, ca: string, cert: string, key: string }

export function makeTlsFiles (): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'redis-tls-'))
  const file = (name: string) => join(dir, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore', timeout: 20_000 })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2', '-subj', '/CN=mor-gateway test CA')
  openssl('req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1')
  writeFileSync(file('ext'), 'subjectAltName=IP:127.0.0.1\n')
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.crt'), '-days', '2', '-extfile', file('ext'))
  return { dir, ca: file('ca.crt'), cert: file('server.crt'), key: file('server.key') }
}

/** redis-server arguments: TLS only (no plain port) on `port`, clients not asked for certificates. */
export const tlsServerArgs = (tls: TlsFiles, port: number) => [
  '--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key,
  '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no'
]
