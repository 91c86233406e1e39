/**
 * A connection's first request head, read before node:http reads it, for a server whose own
 * rules differ from node:http's parser (Fleet Server: Go's net/http, go-request-head.ts). Go
 * answers a bad request line as soon as it has read it, reads a head of up to a megabyte,
 * reads folded field lines and empty field names: node:http waits for the fields after an
 * HTTP/0.9 line, stops at 16 KB and refuses the rest. Only the first head: node:http keeps
 * the connection after it (its parser reads the socket itself), and its own refusals are mapped
 * to the server's in tls-listener.ts. The direct path reads every head itself (direct-http.ts).
 */
import type net from 'node:net';
import { Received } from '../load/direct-http.js';
import type { HeadRules } from './go-request-head.js';
import { writeAndClose } from './go-request-line.js';

/**
 * Reads `socket`'s first head: answers and closes it when the rules refuse it, else hands the
 * socket to `handOver` with the head (as the server reads it) and anything after it unread.
 * Holds at most the rules' `maxHeadBytes` (and one chunk) of a head.
 */
export function gateHead(socket: net.Socket, rules: HeadRules, handOver: (socket: net.Socket) => void): void {
  const received = new Received();
  const limit = rules.maxHeadBytes ?? Infinity;
  let lineRead = false;
  // Once the head is judged: what else comes before the hand-over is kept behind it.
  let handing = false;
  let ended = false;
  const stop = () => {
    socket.off('data', onData);
    socket.off('end', onEnd);
  };
  const refuse = (answer: string) => {
    stop();
    socket.pause();
    writeAndClose(socket, answer);
  };
  // Handed over once the read that brought the head is done: TLS may still be delivering what
  // it decrypted with it, which must come after the head, and node:http's parser reads the
  // socket's handle itself once it has the socket.
  const handOverLater = () => setImmediate(() => {
    stop();
    if (socket.destroyed) return;
    const data = rules.forNode ? rules.forNode(received.take()) : received.take();
    if (ended) {
      // The client's FIN came too: the stream has ended, so node:http gets both as events.
      handOver(socket);
      socket.emit('data', data);
      socket.emit('end');
      return;
    }
    socket.pause();
    socket.unshift(data);
    handOver(socket);
    socket.resume();
  });
  const onData = (chunk: Buffer) => {
    received.push(chunk);
    if (handing) return;
    const end = received.headEnd();
    const lineNow = !lineRead && chunk.includes(0x0a);
    if (!lineNow && end < 0 && received.size < limit) return;
    lineRead ||= lineNow;
    const data = received.take();
    const early = rules.early?.(data, end);
    if (early !== undefined) return refuse(early);
    if (end < 0) return;
    const refusal = rules.refuse(data.toString('latin1', 0, end).split('\r\n'));
    if (refusal !== undefined) return refuse(refusal);
    handing = true;
    handOverLater();
  };
  // A client that ends its side mid-head gets the server's answer to that; one that sent nothing, a close.
  const onEnd = () => {
    if (handing) return void (ended = true);
    if (received.size > 0 && rules.cutShort !== undefined) return refuse(rules.cutShort);
    stop();
    socket.destroySoon();
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
}
