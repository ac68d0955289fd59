#!/usr/bin/env node
// Launcher: registers tsx's ESM loader in-process, then runs the TypeScript CLI.
import { register } from 'tsx/esm/api';
register();
await import('../harness/cli/main.ts');
