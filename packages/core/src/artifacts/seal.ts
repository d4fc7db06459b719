// Sealing a run manifest: a signature over its digest with an HMAC or ed25519 key, stored beside
// the manifest as it was, so that `verify` can tell whether anything changed since and whether the
// seal was made with the key it is given.
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import { BatonError } from '../errors.js';

/** A key that seals (and checks) manifests. The secret never appears in errors or output. */
export type SigningKey =
  | { readonly hmac: string | Uint8Array; readonly id?: string }
  | { readonly ed25519: string | KeyObject; readonly id?: string };

export type SealAlgorithm = 'hmac-sha256' | 'ed25519';

export interface Signature {
  readonly algorithm: SealAlgorithm;
  readonly keyId: string | null;
  /** base64 */
  readonly value: string;
}

function ed25519Key(key: string | KeyObject, use: 'sign' | 'verify'): KeyObject {
  try {
    const k = typeof key === 'string' ? (use === 'sign' ? createPrivateKey(key) : publicFromPem(key)) : key;
    const kind = k.asymmetricKeyType;
    if (kind !== 'ed25519') throw new Error(`a ${kind ?? 'symmetric'} key`);
    if (use === 'sign' && k.type !== 'private') throw new Error('a public key cannot sign');
    return k;
  } catch (err) {
    throw new BatonError(
      'E_INVALID_OPTION',
      `the ed25519 key is not usable to ${use}: ${(err as Error).message}. Give a PEM ed25519 ${use === 'sign' ? 'private' : 'private or public'} key (openssl genpkey -algorithm ed25519)`,
    );
  }
}

/** A public key from a PEM that may hold the private key (which has the public one in it). */
function publicFromPem(pem: string): KeyObject {
  return pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
}

function hmacKey(key: string | Uint8Array): Buffer {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
  if (bytes.length < 16)
    throw new BatonError(
      'E_INVALID_OPTION',
      `an HMAC sealing key must be at least 16 bytes, got ${bytes.length}; use a long random secret`,
    );
  return bytes;
}

/** Signs a manifest digest. */
export function signDigest(digest: string, key: SigningKey): Signature {
  const keyId = key.id ?? null;
  if ('hmac' in key)
    return {
      algorithm: 'hmac-sha256',
      keyId,
      value: createHmac('sha256', hmacKey(key.hmac)).update(digest).digest('base64'),
    };
  return {
    algorithm: 'ed25519',
    keyId,
    value: sign(null, Buffer.from(digest), ed25519Key(key.ed25519, 'sign')).toString('base64'),
  };
}

/** Whether `signature` is `key`'s over `digest`; a problem when the key is of the other kind. */
export function checkSignature(digest: string, signature: Signature, key: SigningKey): string | undefined {
  const kind: SealAlgorithm = 'hmac' in key ? 'hmac-sha256' : 'ed25519';
  if (kind !== signature.algorithm) return `the seal is ${signature.algorithm}, and the key given is ${kind}`;
  const given = Buffer.from(signature.value, 'base64');
  const ok =
    'hmac' in key
      ? (() => {
          const want = createHmac('sha256', hmacKey(key.hmac)).update(digest).digest();
          return want.length === given.length && timingSafeEqual(want, given);
        })()
      : verify(null, Buffer.from(digest), ed25519Key(key.ed25519, 'verify'), given);
  return ok
    ? undefined
    : `the seal's signature was not made with this key${signature.keyId ? ` (sealed with key '${signature.keyId}')` : ''}`;
}
