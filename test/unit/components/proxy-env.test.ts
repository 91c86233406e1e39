import { describe, expect, it } from 'vitest';
import { proxyFromEnvironment } from '../../../src/components/proxy/proxy-env.js';

const via = (env: NodeJS.ProcessEnv, url: string) => proxyFromEnvironment(env, new URL(url));

describe('the proxy the environment gives, as Go\'s ProxyFromEnvironment reads it', () => {
  it('takes HTTPS_PROXY for https and HTTP_PROXY for http, upper case first, a bare host:port as http://', () => {
    expect(via({ HTTPS_PROXY: 'http://proxy:8888', https_proxy: 'http://other:1' }, 'https://fleet-server:8220')).toBe('http://proxy:8888');
    expect(via({ https_proxy: 'proxy:3128' }, 'https://fleet-server:8220')).toBe('http://proxy:3128');
    expect(via({ HTTP_PROXY: 'http://proxy:8888' }, 'https://fleet-server:8220')).toBeUndefined();
    expect(via({ HTTP_PROXY: 'socks5://proxy:1080' }, 'http://fleet-server:8220')).toBe('socks5://proxy:1080');
    expect(via({ HTTPS_PROXY: '' }, 'https://fleet-server:8220')).toBeUndefined();
  });

  it('never proxies localhost or a loopback address', () => {
    for (const url of ['https://localhost:8220', 'https://127.0.0.1:8220', 'https://127.8.9.1', 'https://[::1]:8220']) {
      expect(via({ HTTPS_PROXY: 'http://proxy:8888' }, url)).toBeUndefined();
    }
  });

  it('goes direct for what NO_PROXY names: *, a domain and its subdomains, .x and *.x subdomains only, a port, an IP, a CIDR (each case as Go 1.19 answers it)', () => {
    const env = (noProxy: string) => ({ HTTPS_PROXY: 'http://proxy:8888', NO_PROXY: noProxy });
    expect(via(env('*'), 'https://fleet-server:8220')).toBeUndefined();
    expect(via(env('elasticsearch, example.com'), 'https://elasticsearch:9200')).toBeUndefined();
    expect(via(env('example.com'), 'https://fleet.example.com')).toBeUndefined();
    expect(via(env('example.com'), 'https://example.com')).toBeUndefined();
    expect(via(env('.example.com'), 'https://example.com')).toBe('http://proxy:8888');
    expect(via(env('.example.com'), 'https://a.example.com')).toBeUndefined();
    expect(via(env('*.example.com'), 'https://example.com')).toBe('http://proxy:8888');
    expect(via(env('*.example.com'), 'https://a.example.com')).toBeUndefined();
    expect(via(env('notexample.com'), 'https://example.com')).toBe('http://proxy:8888');
    expect(via(env('fleet-server:9999'), 'https://fleet-server:8220')).toBe('http://proxy:8888');
    expect(via(env('fleet-server:8220'), 'https://fleet-server:8220')).toBeUndefined();
    expect(via(env('10.89.0.7'), 'https://10.89.0.7:8220')).toBeUndefined();
    expect(via(env('10.89.0.0/24'), 'https://10.89.0.7:8220')).toBeUndefined();
    expect(via(env('10.89.1.0/24'), 'https://10.89.0.7:8220')).toBe('http://proxy:8888');
    expect(via({ HTTPS_PROXY: 'http://proxy:8888', no_proxy: 'fleet-server' }, 'https://FLEET-SERVER:8220')).toBeUndefined();
  });
});
