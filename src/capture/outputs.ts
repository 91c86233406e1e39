import type { Leg } from '../report/leg.js';
import { writeOutputFile, type OutputFlags } from './files.js';
import { pcapng } from './pcapng.js';
import { keylogText } from './wire.js';

/**
 * Writes what `--html`, `--keylog` and `--pcap` ask for, after a run. The HTML is built only
 * when asked (a whole catalog's page is a few megabytes of string).
 */
export async function writeOutputs(outputs: OutputFlags, legs: readonly Leg[], html: () => string): Promise<void> {
  if (outputs.keylog !== undefined) await writeOutputFile('--keylog', outputs.keylog, keylogText(legs), true);
  if (outputs.pcap !== undefined) await writeOutputFile('--pcap', outputs.pcap, pcapng(legs), true);
  if (outputs.html !== undefined) await writeOutputFile('--html', outputs.html, html(), false);
}
