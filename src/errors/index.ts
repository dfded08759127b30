export { AppError, type AppErrorOptions, isAppError, type ProblemExtras } from './app-error.ts';
export { ERROR_CODES, type ErrorCode, statusOf } from './codes.ts';
