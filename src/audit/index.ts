export { type ChainHead, eventHash, sealEvent, sha256hex } from './chain.ts';
export {
  type AuditCheckpoint,
  type CheckpointSigningKey,
  checkpointPayload,
  type PublicKeyLookup,
  signCheckpoint,
  verifyCheckpointSignature,
} from './checkpoint.ts';
export {
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  type AuditAction,
  type AuditActor,
  type AuditEvent,
  type AuditEventInput,
  type AuditOutcome,
  type AuditResource,
  describeAuditAction,
  GENESIS_HASH,
  isAuditAction,
  MAX_DETAIL_STRING,
  SYSTEM_TENANT,
} from './event.ts';
export {
  AUDIT_ACTION_SYSTEM,
  type FhirAuditEvent,
  type FhirBundle,
  type FhirCoding,
  type FhirOptions,
  fhirId,
  toFhirAuditEvent,
  toFhirBundle,
} from './fhir.ts';
export {
  type AuditSummary,
  type AuditSummaryBuilder,
  actorKey,
  createSummaryBuilder,
  type ReportRange,
  summarize,
} from './report.ts';
export {
  type VerifyChainOptions,
  type VerifyFailure,
  type VerifyFailureReason,
  type VerifyResult,
  verifyChain,
} from './verify.ts';
