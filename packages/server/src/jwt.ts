// Bearer JWTs from an identity provider, beside API keys: HS256 with a shared secret, or RS256/ES256
// with the provider's JWKS. The role comes from a claim (default `role`); a token without a valid
// one is refused, never given a default role.
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { BatonError, textProblem } from '@baton/core';
import type { Caller } from './keys.js';
import { isRole, ROLES } from './roles.js';

export interface JwtOptions {
  /** HS256: the shared secret (at least 32 bytes). */
  secret?: string;
  /** RS256 / ES256: where the provider publishes its keys. */
  jwksUrl?: string;
  /** When set, a token must name this issuer (`iss`). */
  issuer?: string;
  /** When set, a token must name this audience (`aud`). */
  audience?: string;
  /** The claim that holds the role (default `role`). */
  roleClaim?: string;
}

/** A JWT's three base64url parts: what tells one from an API key. */
const JWT = /^[\w-]+\.[\w-]+\.[\w-]*$/;

export function looksLikeJwt(token: string): boolean {
  return JWT.test(token);
}

export class JwtVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];
  private readonly roleClaim: string;

  constructor(private readonly options: JwtOptions) {
    if ((options.secret === undefined) === (options.jwksUrl === undefined))
      throw new BatonError(
        'E_INVALID_OPTION',
        'JWT auth needs either a secret (HS256) or a JWKS URL (RS256/ES256), not both',
      );
    if (options.secret !== undefined) {
      const bytes = new TextEncoder().encode(options.secret);
      // RFC 7518 §3.2: an HS256 key is at least as long as the hash.
      if (bytes.length < 32)
        throw new BatonError(
          'E_INVALID_OPTION',
          `the JWT secret is ${bytes.length} bytes; HS256 needs at least 32`,
        );
      this.key = bytes;
      this.algorithms = ['HS256'];
    } else {
      let url: URL;
      try {
        url = new URL(options.jwksUrl!);
      } catch {
        throw new BatonError('E_INVALID_OPTION', `the JWKS URL '${options.jwksUrl}' is not a URL`);
      }
      this.key = createRemoteJWKSet(url);
      this.algorithms = ['RS256', 'ES256'];
    }
    this.roleClaim = options.roleClaim ?? 'role';
  }

  /** The caller a token stands for; E_UNAUTHENTICATED says why it does not. */
  async verify(token: string): Promise<Caller> {
    let payload: Record<string, unknown>;
    try {
      const verified = await jwtVerify(token, this.key as Uint8Array, {
        algorithms: this.algorithms,
        issuer: this.options.issuer,
        audience: this.options.audience,
      });
      payload = verified.payload;
    } catch (err) {
      throw new BatonError('E_UNAUTHENTICATED', `the bearer token is not valid: ${reason(err)}`);
    }
    const role = payload[this.roleClaim];
    if (!isRole(role))
      throw new BatonError(
        'E_UNAUTHENTICATED',
        `the bearer token's '${this.roleClaim}' claim must be one of ${ROLES.join(', ')}`,
      );
    const subject = typeof payload.sub === 'string' ? payload.sub : undefined;
    // The subject is recorded as who acted (callerName): it must be text PostgreSQL can store.
    const problem = subject === undefined ? undefined : textProblem(subject);
    if (problem) throw new BatonError('E_UNAUTHENTICATED', `the bearer token's 'sub' claim ${problem}`);
    return { role, subject };
  }
}

/** Why jose refused a token, in words that reveal nothing of the key. */
function reason(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'it has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `its ${err.claim} claim does not match`;
  if (err instanceof errors.JOSEAlgNotAllowed) return 'its algorithm is not accepted';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the JWKS matches it';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'it is malformed';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JOSEError) return 'it could not be checked';
  return 'it is malformed';
}
