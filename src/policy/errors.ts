/** One problem found in a policy, named by its path (`routes[0].throttle.rateLimit`). */
export interface PolicyIssue {
  path: string;
  message: string;
  /** 1-based line in the source file, when known (YAML and JSON both get one). */
  line?: number;
}

/** Bad input: the CLI maps this to exit code 2 and sends no traffic. */
export class PolicyError extends Error {
  constructor(
    readonly file: string,
    readonly issues: PolicyIssue[],
  ) {
    super(
      issues
        .map((issue) => `${file}${issue.line ? `:${issue.line}` : ''}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`)
        .join('\n'),
    );
    this.name = 'PolicyError';
  }
}

/** `['routes', 0, 'throttle']` → `routes[0].throttle` */
export function formatPath(segments: ReadonlyArray<string | number>): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number' || /^\d+$/.test(segment)) out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
