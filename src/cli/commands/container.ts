import type { Command } from 'commander';
import { HarnessError } from '../../errors.js';
import { envBool, envValue } from '../elastic-env.js';
import type { Io } from '../io.js';

/**
 * The image's default command: it picks the component the way Elastic's images are told what to
 * be, by their environment. FLEET_SERVER_ENABLE: Fleet Server (Elastic's agent image then
 * bootstraps Fleet Server); FLEET_ENROLL: an agent that enrolls; an `xpack.security.http.ssl.*`
 * setting: Elasticsearch. So a compose file written for Elastic's images runs with ours swapped in.
 */
export function registerContainer(program: Command, io: Io, rerun: (argv: string[]) => Promise<void>, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('container')
    .description('run what the environment of Elastic\'s images asks for: fleet-server (FLEET_SERVER_ENABLE), agent (FLEET_ENROLL) or elasticsearch (xpack.security.http.ssl.*); the image\'s default command')
    .argument('[flags...]', 'flags passed on to the component command')
    .allowUnknownOption()
    .action(async (flags: string[]) => {
      const component = envBool(env, 'FLEET_SERVER_ENABLE') ? 'fleet-server'
        : envBool(env, 'FLEET_ENROLL') ? 'agent'
          : Object.keys(env).some((name) => name.startsWith('xpack.security.http.ssl.') && envValue(env, name) !== undefined) ? 'elasticsearch'
            : undefined;
      if (!component) {
        throw new HarnessError('FTH_USAGE', 'container: nothing to run; set FLEET_SERVER_ENABLE=1, FLEET_ENROLL=1 or xpack.security.http.ssl.* settings, or give a command (elasticsearch, fleet-server, agent)');
      }
      io.out(`[container] starting ${component}, as the environment asks\n`);
      await rerun([component, ...flags]);
    });
}
