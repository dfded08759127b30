import type { Scope, TenantId } from '../core/types.ts';

/** Who is calling, as proven by a verified access token. */
export interface Principal {
  tenantId: TenantId;
  subject: string;
  scope: Scope;
  /** The token's `jti`. */
  tokenId: string;
  /** The refresh family the token was issued in. */
  familyId: string;
  /** The client address of the current request, for the audit trail. */
  ip?: string;
}
