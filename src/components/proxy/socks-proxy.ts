import net from 'node:net';
import { ComponentLog } from '../log.js';
import { hostPort } from './proxy-url.js';
import { dialUpstream, ProxyListener, splice, type Resolve } from './proxy-listener.js';
import { SocketReader } from './socket-reader.js';

/** How {@link FakeSocksProxy} listens, whom it authenticates, and which ports its rules pass. */
export interface SocksProxyOptions {
  readonly host?: string;
  readonly port?: number;
  /** dante's `socksmethod: username`: only RFC 1929 with these credentials is accepted. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** A `socks pass` rule for these target ports only; others meet `socks block` (reply 2). Absent: all pass. */
  readonly allowPorts?: readonly number[];
  readonly resolve?: Resolve;
  readonly log?: ComponentLog;
}

/** dante's address rendering: `IP.port`. */
const dot = (host: string | undefined, port: number | undefined) => `${(host ?? '').replace(/^::ffff:/, '')}.${port}`;

/**
 * A SOCKS5 server (RFC 1928, RFC 1929) that logs as dante 1.4 (danted) does with
 * `log: connect disconnect error` (lines confirmed against Debian's dante-server in
 * test/integration/proxy-peers.test.ts). Rule numbers are those of a configuration with one
 * `client pass`, a `socks pass` per allowed port, then `socks block`.
 */
export class FakeSocksProxy implements AsyncDisposable {
  readonly log: ComponentLog;

  private constructor(private readonly listener: ProxyListener, private readonly options: SocksProxyOptions, log: ComponentLog) {
    this.log = log;
  }

  /** Listens (127.0.0.1, a free port unless given) and resolves once ready. */
  static async start(options: SocksProxyOptions = {}): Promise<FakeSocksProxy> {
    const log = options.log ?? new ComponentLog('proxy');
    let proxy: FakeSocksProxy | undefined;
    const listener = await ProxyListener.start('proxy', options.host ?? '127.0.0.1', options.port ?? 0, (socket) => void proxy!.serve(socket));
    proxy = new FakeSocksProxy(listener, options, log);
    return proxy;
  }

  get port(): number {
    return this.listener.port;
  }

  get url(): string {
    return `socks5://${hostPort(this.options.host ?? '127.0.0.1', this.port)}`;
  }

  /** Stops listening and ends every tunnel. */
  async close(): Promise<void> {
    await this.listener.close();
  }

  /** `await using`: the same as {@link FakeSocksProxy.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async serve(client: net.Socket): Promise<void> {
    const started = Date.now();
    const peer = `${dot(client.remoteAddress, client.remotePort)} ${dot(client.localAddress, client.localPort)}`;
    const seconds = () => Math.floor((Date.now() - started) / 1000);
    // `clientPort` ties a line to the client's connection for the report.
    const fields = { clientPort: client.remotePort };
    this.say(fields, `pass(1): tcp/accept [: ${peer}`);
    const reader = new SocketReader(client);
    let read = 0;
    const take = async (n: number) => { const b = await reader.read(n); read += n; return b; };
    const block = (why: string) => {
      this.say(fields, `block(1): tcp/accept ]: ${peer}: error after reading ${read} bytes in ${seconds()} seconds: ${why}`);
      client.destroy();
    };
    try {
      const [version, count] = await take(2);
      const methods = [...await take(count!)];
      if (version !== 5) return block(`unsupported SOCKS version ${version}`);
      const wanted = this.options.auth ? 0x02 : 0x00;
      if (!methods.includes(wanted)) {
        client.write(Buffer.from([5, 0xff]));
        return block('client offered no acceptable authentication method');
      }
      client.write(Buffer.from([5, wanted]));
      if (this.options.auth) {
        const [, userLength] = await take(2);
        const user = (await take(userLength!)).toString();
        const password = (await take((await take(1))[0]!)).toString();
        if (user !== this.options.auth.username || password !== this.options.auth.password) {
          client.write(Buffer.from([1, 1]));
          return block(user === this.options.auth.username
            ? 'system password authentication failed'
            : `could not access user "${user}"'s records in the system password file: no system error`);
        }
        client.write(Buffer.from([1, 0]));
      }
      const [, command, , type] = await take(4);
      const length = type === 1 ? 4 : type === 4 ? 16 : type === 3 ? (await take(1))[0]! : 0;
      const raw = await take(length);
      const portBytes = await take(2);
      const host = type === 3 ? raw.toString() : type === 1 ? [...raw].join('.') : ipv6(raw);
      const port = portBytes.readUInt16BE(0);
      reader.release();
      if (command !== 1) return this.reply(client, 7, () => block('command not supported'));
      if (this.options.allowPorts && !this.options.allowPorts.includes(port)) {
        // One `socks pass` per allowed port, then the `socks block`: dante numbers rules in order.
        const rule = this.options.allowPorts.length + 1;
        this.say(fields, `block(${rule}): tcp/connect ]: ${peer} -> 0.0.0.0.0 ${dot(host, port)}`);
        return this.reply(client, 2, () => this.say(fields, `block(1): tcp/accept ]: ${peer}: blocked by higher-level socks-rule #${rule}`));
      }
      const rule = this.options.allowPorts ? this.options.allowPorts.indexOf(port) + 1 : 1;
      const upstream = await dialUpstream(this.options.resolve?.(host, port) ?? { host, port });
      if (!(upstream instanceof net.Socket)) {
        const why = upstream.code === 'ECONNREFUSED' ? 'Connection refused' : upstream.message;
        this.say(fields, `pass(${rule}): tcp/connect ]: 0 -> ${peer} -> 0, 0 -> 0.0.0.0.0 ${dot(host, port)} -> 0: remote peer error (${why}).  Session duration: ${seconds()}s`);
        return this.reply(client, upstream.code === 'ECONNREFUSED' ? 5 : 4, () => this.say(fields, `pass(1): tcp/accept ]: 0 -> ${peer} -> 0: remote peer error (${why}).  Session duration: ${seconds()}s`));
      }
      this.listener.track(upstream);
      const external = `${dot(upstream.localAddress, upstream.localPort)} ${dot(host, port)}`;
      this.say(fields, `pass(${rule}): tcp/connect [: ${peer} -> ${external}`);
      const bound = Buffer.from((upstream.localAddress ?? '0.0.0.0').replace(/^::ffff:/, '').split('.').map(Number));
      client.write(Buffer.concat([Buffer.from([5, 0, 0, 1]), bound.length === 4 ? bound : Buffer.alloc(4), Buffer.from([upstream.localPort! >> 8, upstream.localPort! & 0xff])]));
      splice(client, upstream, ({ fromClient, toClient }) => {
        this.say(fields, `pass(${rule}): tcp/connect ]: ${toClient} -> ${peer} -> ${fromClient}, ${fromClient} -> ${external} -> ${toClient}: local client closed.  Session duration: ${seconds()}s`);
        this.say(fields, `pass(1): tcp/accept ]: ${toClient} -> ${peer} -> ${fromClient}: local client closed.  Session duration: ${seconds()}s`);
      });
      client.resume();
    } catch {
      block('client closed');
    }
  }

  private say(fields: Record<string, unknown>, message: string): void {
    this.log.write('info', message, fields);
  }

  private reply(client: net.Socket, code: number, then: () => void): void {
    client.end(Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]));
    then();
  }
}

function ipv6(raw: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(raw.readUInt16BE(i).toString(16));
  return groups.join(':');
}
