// What the facade (js/agent.js) and js/extras.js both use: coded errors, made as the module makes its
// own (an `Error` whose `code` is stable, so pages can branch on it), and reading credentials.

export function codedError(code, message, cause) {
  const error = new Error(message);
  error.code = code;
  if (cause !== undefined) error.cause = cause;
  return error;
}

/** A call whose `signal` was aborted. */
export const canceled = () => codedError('canceled', 'the call was canceled by its signal');

/** A failed request to the service: `code` plus the `reason` a lookup failure would carry. */
export const refused = (code, message, reason, cause) => Object.assign(codedError(code, message + reason, cause), { reason });

/**
 * The values of `{loginkey, partnerid, partneruserid}`, for the module to check; throws
 * `invalid_credentials` when `credentials` is not an object or its fields cannot be read.
 */
export function credentialValues(credentials) {
  try {
    if (credentials === Object(credentials)) return [credentials.loginkey, credentials.partnerid, credentials.partneruserid];
  } catch (unreadable) {
    // reported below
  }
  throw codedError('invalid_credentials', 'invalid credentials: not an object');
}
