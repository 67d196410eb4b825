import { join } from 'node:path';
import { readSecretFile, writeSecretFile } from '../security/secret-file.js';
import { generateSecret, isLoopback, validateSecret } from '../security/secrets.js';

/** What `<data-dir>/distributor/credentials.json` (mode 0600) keeps. */
interface CredentialsFile {
  readonly clusterSecret: string;
  readonly adminToken?: string;
}

export interface Credentials {
  /** Sent to every node; the nodes of this cluster require it. */
  readonly clusterSecret: string;
  /** Required on admin routes when set. */
  readonly adminToken: string | undefined;
  /** True when the admin token was made just now (the CLI prints it, once). */
  readonly adminTokenGenerated: boolean;
  readonly path: string;
}

export function credentialsPath(dataDir: string): string {
  return join(dataDir, 'distributor', 'credentials.json');
}

/**
 * The cluster secret and the admin token: given (options), or kept from an earlier start, or new. A cluster
 * secret is always made on first start, so the nodes of this cluster answer only its distributors. An admin
 * token is made only when the distributor binds beyond loopback without one (on loopback the admin routes stay
 * open, as in the original design, unless a token is given).
 */
export async function resolveCredentials(options: {
  readonly dataDir: string;
  readonly host: string;
  readonly clusterSecret: string | undefined;
  readonly adminToken: string | undefined;
}): Promise<Credentials> {
  const path = credentialsPath(options.dataDir);
  const saved = await readSecretFile<Partial<CredentialsFile>>(path);
  const clusterSecret = validateSecret(
    options.clusterSecret ?? saved?.clusterSecret ?? generateSecret(),
    'the cluster secret',
  );
  let adminToken = options.adminToken ?? saved?.adminToken;
  let adminTokenGenerated = false;
  if (adminToken === undefined && !isLoopback(options.host)) {
    adminToken = generateSecret();
    adminTokenGenerated = true;
  }
  if (adminToken !== undefined) validateSecret(adminToken, 'the admin token');
  if (saved?.clusterSecret !== clusterSecret || saved?.adminToken !== adminToken) {
    await writeSecretFile(path, { clusterSecret, ...(adminToken !== undefined && { adminToken }) });
  }
  return { clusterSecret, adminToken, adminTokenGenerated, path };
}
