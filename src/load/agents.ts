import { randomUUID } from 'node:crypto';
import { bareExchange, request, type Exchange, type Target } from './exchange.js';
import { countError, emptyStats, errorKind, type LoadStats } from './stats.js';

export interface AgentsSpec {
  /** What is at the other end: Fleet Server's API, or the bare pair's one-byte echo. */
  readonly kind: 'fleet-server' | 'bare';
  readonly agents: number;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly sessions: 'new' | 'resume';
  readonly enrollmentToken: string;
  readonly version?: string;
}

interface Agent {
  id?: string;
  apiKey?: string;
  ackToken?: string;
  session?: Buffer;
}

/**
 * Simulated agents: `concurrency` lanes, each owning every lane-th agent in turn. An agent
 * enrolls once, then checks in again and again, each request on a new connection (resuming the
 * agent's last session when asked), until the duration is over.
 */
export class AgentFleet {
  readonly stats: LoadStats = emptyStats();
  /** Hold mode: checkins sent and still open. */
  held = 0;
  /** Each agent's state from its first step on: a run may name a million agents and reach a few hundred. */
  private readonly agents = new Map<number, Agent>();
  private readonly headers: Record<string, string>;
  /** Every agent sends the same enrolment and the same checkin (no ack): made once. */
  private readonly enrollBody: string;
  private readonly checkinBody = JSON.stringify({ status: 'online', message: '', ack_token: '' });
  private readonly open = new Set<{ destroy(): void }>();
  private stopping = false;

  constructor(private readonly target: Target, private readonly spec: AgentsSpec) {
    this.headers = { 'user-agent': `Elastic Agent v${spec.version ?? '9.2.0'}`, 'kbn-xsrf': '1', accept: 'application/json' };
    this.enrollBody = JSON.stringify({ type: 'PERMANENT', id: '', replace_token: '', metadata: { local: { elastic: { agent: { version: spec.version ?? '9.2.0', id: '' } } }, user_provided: {}, tags: ['fleet-tls-load'] } });
  }

  /** Throughput: every lane steps through its agents until the duration is over. */
  async run(): Promise<void> {
    const deadline = performance.now() + this.spec.durationMs;
    await this.lanes(async (mine) => {
      for (let k = 0; performance.now() < deadline && !this.stopping; k = (k + 1) % mine.length) await this.step(mine.at(k));
    });
  }

  /** Hold, first phase: every agent enrolls and takes its policy. */
  async prepare(): Promise<void> {
    await this.lanes(async (mine) => {
      for (let k = 0; k < mine.length; k++) {
        const agent = mine.at(k);
        if (!this.stopping && (await this.enroll(agent))) await this.checkin(agent, '');
      }
    });
  }

  /** Hold, second phase: every prepared agent leaves a long-poll checkin open (until stop). */
  async hold(): Promise<void> {
    await this.lanes(async (mine) => {
      for (let k = 0; k < mine.length; k++) {
        const agent = mine.at(k);
        if (!this.stopping && agent.ackToken) await this.holdOne(agent);
      }
    });
  }

  /** Lane `lane` of `lanes` owns agents lane, lane + lanes, lane + 2 lanes...; no list of them is built. */
  private async lanes(work: (mine: { readonly length: number; at(k: number): Agent }) => Promise<void>): Promise<void> {
    const lanes = Math.min(this.spec.concurrency, this.spec.agents);
    await Promise.all(Array.from({ length: lanes }, (_, lane) => work({
      length: Math.ceil((this.spec.agents - lane) / lanes),
      at: (k) => this.agent(lane + k * lanes),
    })));
  }

  private agent(index: number): Agent {
    let agent = this.agents.get(index);
    if (!agent) this.agents.set(index, (agent = {}));
    return agent;
  }

  /** Ends held checkins and stops the lanes. */
  stop(): void {
    this.stopping = true;
    for (const socket of this.open) socket.destroy();
  }

  private async step(agent: Agent): Promise<void> {
    if (this.spec.kind === 'bare') {
      await this.exchange(agent, () => bareExchange(this.target, this.session(agent)));
      return;
    }
    if (!agent.id) await this.enroll(agent);
    else await this.checkin(agent, '');
  }

  /** Sends a checkin that acknowledges the policy; resolves once its connection is up, not answered. */
  private async holdOne(agent: Agent): Promise<void> {
    // Acknowledging what the last checkin sent: Fleet Server has nothing new and holds the poll.
    const body = JSON.stringify({ status: 'online', message: '', ack_token: agent.ackToken, poll_timeout: '10m' });
    let socket: { destroy(): void } | undefined;
    const handle = { destroy: () => socket?.destroy() };
    this.open.add(handle);
    await new Promise<void>((connected) => {
      const onSocket = (s: { destroy(): void }) => {
        socket = s;
        this.held++;
        if (this.stopping) s.destroy();
        connected();
      };
      void this.exchange(agent, () => request(this.target, `/api/fleet/agents/${agent.id}/checkin`, this.auth(agent), body, this.session(agent), onSocket))
        .finally(() => {
          this.open.delete(handle);
          if (socket) this.held--;
          connected();
        });
    });
  }

  private async enroll(agent: Agent): Promise<boolean> {
    const body = this.enrollBody;
    const reply = await this.exchange(agent, () => request(this.target, '/api/fleet/agents/enroll',
      { ...this.headers, authorization: `ApiKey ${this.spec.enrollmentToken}`, 'x-request-id': randomUUID() }, body, this.session(agent)));
    if (!reply) return false;
    const item = (JSON.parse(reply.body) as { item?: { id?: string; access_api_key?: string } }).item;
    if (!item?.id || !item.access_api_key) {
      countError(this.stats, 'enroll:malformed-response');
      return false;
    }
    agent.id = item.id;
    agent.apiKey = item.access_api_key;
    return true;
  }

  private async checkin(agent: Agent, ackToken: string): Promise<boolean> {
    const body = ackToken === '' ? this.checkinBody : JSON.stringify({ status: 'online', message: '', ack_token: ackToken });
    const reply = await this.exchange(agent, () => request(this.target, `/api/fleet/agents/${agent.id}/checkin`, this.auth(agent), body, this.session(agent)));
    if (!reply) return false;
    agent.ackToken = (JSON.parse(reply.body) as { ack_token?: string }).ack_token;
    return true;
  }

  private auth(agent: Agent): Record<string, string> {
    return { ...this.headers, authorization: `ApiKey ${agent.apiKey}`, 'x-request-id': randomUUID() };
  }

  private session(agent: Agent): Buffer | undefined {
    return this.spec.sessions === 'resume' ? agent.session : undefined;
  }

  /** Runs one exchange and counts it: a handshake and a latency when it answered 200, else an error kind. */
  private async exchange(agent: Agent, run: () => Promise<Exchange>): Promise<Exchange | undefined> {
    try {
      const reply = await run();
      this.stats.handshakes++;
      if (reply.resumed) this.stats.resumed++;
      if (reply.session) agent.session = reply.session;
      if (reply.status !== 200) {
        countError(this.stats, `http:${reply.status}`);
        return undefined;
      }
      this.stats.latencies.push(reply.ms);
      return reply;
    } catch (error) {
      if (!this.stopping) countError(this.stats, errorKind(error));
      return undefined;
    }
  }
}
