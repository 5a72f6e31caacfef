// Certificates and keys for a throwaway cluster. node:crypto can make keys but not X.509 certificates, so
// the `openssl` CLI (OpenSSL 3: `req -x509 -CA` signs in one step) does the work. EC P-256 keeps it fast.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { runOk } from './processes.js';

export interface Pki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  /** Service-account token signing key (private) and its public half for verification. */
  saKey: string;
  saPub: string;
}

const TEN_YEARS_DAYS = '3650';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Creates every file in dir. servingIps/servingNames become the apiserver certificate's SANs. */
export async function createPki(dir: string, servingIps: string[], servingNames: string[]): Promise<Pki> {
  const f = (name: string) => join(dir, name);
  const pki: Pki = {
    caCert: f('ca.crt'), caKey: f('ca.key'),
    servingCert: f('apiserver.crt'), servingKey: f('apiserver.key'),
    adminCert: f('admin.crt'), adminKey: f('admin.key'),
    saKey: f('sa.key'), saPub: f('sa.pub'),
  };
  await runOk('openssl', ['req', '-x509', ...EC, '-keyout', pki.caKey, '-out', pki.caCert, '-days', TEN_YEARS_DAYS,
    '-subj', '/CN=metallb-ts-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const sans = [...servingIps.map((ip) => `IP:${ip}`), ...servingNames.map((n) => `DNS:${n}`)].join(',');
  await leaf(pki, pki.servingCert, pki.servingKey, '/CN=kube-apiserver', [
    `subjectAltName=${sans}`, 'extendedKeyUsage=serverAuth', 'keyUsage=critical,digitalSignature',
  ]);
  // O=system:masters: the built-in group that RBAC always allows, so the admin needs no binding.
  await leaf(pki, pki.adminCert, pki.adminKey, '/O=system:masters/CN=metallb-ts-admin', [
    'extendedKeyUsage=clientAuth', 'keyUsage=critical,digitalSignature',
  ]);
  await runOk('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', pki.saKey]);
  writeFileSync(pki.saPub, await runOk('openssl', ['pkey', '-in', pki.saKey, '-pubout']));
  return pki;
}

async function leaf(pki: Pki, cert: string, key: string, subject: string, extensions: string[]): Promise<void> {
  await runOk('openssl', ['req', '-x509', ...EC, '-keyout', key, '-out', cert, '-days', TEN_YEARS_DAYS,
    '-subj', subject, '-CA', pki.caCert, '-CAkey', pki.caKey,
    '-addext', 'basicConstraints=critical,CA:FALSE', ...extensions.flatMap((e) => ['-addext', e])]);
}
