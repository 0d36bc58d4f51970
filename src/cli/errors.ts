/** Bad input: exit 2, nothing sent. */
export class UsageError extends Error {}
