#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/ to dist/ by `npm ci` (the `prepare` script).
import { main } from '../dist/cli/main.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// An interrupted run has written its reports: leave now, whatever timers (a CloudWatch poll) remain.
if (code === 130) process.exit(code);
