#!/usr/bin/env node
// Entry point of the `eni-operator` executable (package.json "bin").
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
