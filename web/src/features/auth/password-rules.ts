/** The server's password rule (src/auth/password.ts), checked before sending so the form can say it at once. */
export const PASSWORD_MIN_LENGTH = 12;

/** What is wrong with a new password and its confirmation, or null. */
export function passwordProblem(password: string, confirm: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `The password needs at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (password !== confirm) return 'The two passwords differ.';
  return null;
}
