/**
 * The command registry. A new command is a module in this folder exporting a Command (most easily made
 * with defineCommand from ../args), listed here; main.ts dispatches on the names.
 */
import type { Command } from '../args';
import { infoCommand } from './info';
import { metricCommand } from './metric';
import { geodesicsCommand } from './geodesics';

export const COMMANDS: readonly Command[] = [metricCommand, geodesicsCommand, infoCommand];
