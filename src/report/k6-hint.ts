import { shellQuote } from '../util/shell.js';

/**
 * What the report says when a throttle check was client-bound (the load generator could not
 * offer the rate needed to see the limit): the `gatecheck export k6` command that spreads the
 * same probe over enough k6 pods to reach it.
 */
export interface K6ExportHint {
  parallelism: number;
  command: string;
  /** One Markdown sentence for a check's summary or details. */
  text: string;
}

export interface HintRates {
  /** Rate the probe needed to offer (the paced phase's target), requests/s. */
  neededRatePerSec: number;
  /** Rate one machine actually offered, requests/s. */
  offeredRatePerSec?: number;
  /** Pods already used (when the client-bound run was itself a k6 run): the hint scales it. */
  currentParallelism?: number;
}

/**
 * Pods needed = ceil(needed / offered per pod × 1.25), at least twice the current count: each
 * pod runs its execution segment of the probe, so their rates add up.
 */
export function k6ExportHint(policyFile: string, route: { id: string } | string, rates?: HintRates): K6ExportHint {
  const routeId = typeof route === 'string' ? route : route.id;
  const current = Math.max(1, rates?.currentParallelism ?? 1);
  const offeredPerPod =
    rates?.offeredRatePerSec !== undefined && rates.offeredRatePerSec > 0 ? rates.offeredRatePerSec / current : undefined;
  const byRate = offeredPerPod !== undefined && rates ? Math.ceil((rates.neededRatePerSec / offeredPerPod) * 1.25) : 4;
  const parallelism = Math.min(1000, Math.max(2 * current, byRate, 2));
  const dir = `k6-${
    routeId
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'export'
  }`;
  const command = [
    'gatecheck',
    'export',
    'k6',
    '--policy',
    policyFile,
    '--route',
    routeId,
    '--parallelism',
    String(parallelism),
    '--out',
    dir,
  ]
    .map(shellQuote)
    .join(' ');
  const reach = rates
    ? ` to offer ${rates.neededRatePerSec.toFixed(0)}/s` +
      `${offeredPerPod !== undefined ? ` (one load generator offered ${offeredPerPod.toFixed(0)}/s)` : ''}`
    : '';
  return {
    parallelism,
    command,
    text:
      `The load generator was the bottleneck: spread the probe over ${parallelism} k6 pods${reach}` +
      ` with \`${command}\`` +
      `, then \`kubectl apply -f ${dir}\` (see docs/k6.md).`,
  };
}
