/**
 * Debian's nginx (/usr/sbin/nginx, from `scripts/setup --test`) as a caching
 * proxy in front of glasscast's HLS, on 127.0.0.1: proxy_cache with
 * proxy_cache_lock, so that N players asking for one file at once cost the
 * origin one request. Everything (config, cache, logs, pid) lives in a
 * folder of its own. Used by test/hls-cache.test.ts and scripts/bench/hls.ts.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const NGINX = "/usr/sbin/nginx";

export interface CacheSettings {
  /** Log every request to DIR/access.log (the test counts them); off for the benchmark. */
  readonly accessLog: boolean;
  readonly workerConnections: number;
  /** Keep connections to the origin open (many players through one proxy). */
  readonly upstreamKeepalive: boolean;
}

export function nginxCacheConfig(dir: string, port: number, upstream: number, s: CacheSettings): string {
  const origin = s.upstreamKeepalive ? "http://origin" : `http://127.0.0.1:${upstream}`;
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${s.workerConnections}; }
http {
  access_log ${s.accessLog ? `${dir}/access.log` : "off"};
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=hls:10m max_size=500m inactive=5m use_temp_path=off;
${s.upstreamKeepalive ? `  upstream origin { server 127.0.0.1:${upstream}; keepalive 32; }\n` : ""}  server {
    listen 127.0.0.1:${port} backlog=4096;
    keepalive_requests 100000;
    location /hls/ {
      proxy_pass ${origin};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache hls;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 20s;
      proxy_cache_lock_age 20s;
      proxy_read_timeout 30s;
      add_header X-Cache-Status $upstream_cache_status;
    }
  }
}
`;
}

export interface CachingProxy {
  readonly proc: ReturnType<typeof Bun.spawn>;
  readonly port: number;
  readonly dir: string;
  readonly url: string;
}

/** Starts nginx in front of 127.0.0.1:`upstream` on `port`; resolves once it answers (10 s at most). */
export async function startCachingProxy(upstream: number, port: number, s: CacheSettings, stderr: "inherit" | "pipe" = "pipe"): Promise<CachingProxy> {
  const dir = mkdtempSync(join(tmpdir(), "glasscast-nginx-"));
  mkdirSync(join(dir, "cache"));
  writeFileSync(join(dir, "nginx.conf"), nginxCacheConfig(dir, port, upstream, s));
  const proc = Bun.spawn([NGINX, "-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], { stdin: "ignore", stdout: "ignore", stderr });
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    if (
      (await fetch(`${url}/hls/nosuch.txt`).then(
        (r) => r.status,
        () => 0,
      )) === 404
    )
      return { proc, port, dir, url };
    await Bun.sleep(100);
  }
  proc.kill("SIGKILL");
  throw new Error(`nginx did not answer on ${url} within 10 s`);
}
