declare const brand: unique symbol;
/** A nominal type: a `T` that only trusted code may mint. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A tenant's id (`tnt_…`). The first argument of every store call. */
export type TenantId = Brand<string, 'TenantId'>;
/** A conversation's id (`cnv_…`), minted only by `conversationId()`. */
export type ConversationId = Brand<string, 'ConversationId'>;

export const asTenantId = (value: string): TenantId => value as TenantId;
export const asConversationId = (value: string): ConversationId => value as ConversationId;

export type Role = 'user' | 'clinician' | 'assistant' | 'system';
export const ROLES: readonly Role[] = ['user', 'clinician', 'assistant', 'system'];

export type Scope = 'conversations' | 'admin';
