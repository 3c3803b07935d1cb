#!/usr/bin/env bash
# nginx with one worker: the best non-JavaScript reference on a small machine. It serves the same hello world
# (200, Content-Type: text/plain, Content-Length: 11) from a `return` in its config, written for this run's port.
# Protocol of bench/lib/spawn.js: `READY <port>` once nginx accepts, or `UNAVAILABLE <reason>` and exit 3.
# The shell execs nginx (master + 1 worker is the measured tree); a background subshell announces readiness.
set -u
PATH="$PATH:/usr/sbin:/sbin"
PORT="${PORT:?PORT is not set}"
command -v nginx >/dev/null 2>&1 || { echo "UNAVAILABLE nginx is not installed (apt-get install nginx)"; exit 3; }
base="$(cd "$(dirname "$0")/.." && pwd)/results/tmp/nginx"
mkdir -p "$base"
find "$base" -mindepth 1 -maxdepth 1 -mmin +60 -exec rm -rf {} + 2>/dev/null
dir="$base/$PORT"
rm -rf "$dir" && mkdir -p "$dir"
# keepalive_requests: nginx closes a keep-alive connection after 1,000 requests by default; every other server
# in the table keeps it for good, so the limit is lifted. access_log off: the others log nothing either.
cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 65536;
pid $dir/nginx.pid;
error_log $dir/error.log error;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 65s;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$PORT;
    location / {
      default_type text/plain;
      return 200 'Hello World';
    }
  }
}
EOF
nginx -t -q -p "$dir" -c "$dir/nginx.conf" 2>"$dir/test.log" || {
  echo "UNAVAILABLE nginx -t failed: $(tr '\n' ' ' <"$dir/test.log" | cut -c1-200)"
  exit 3
}
(
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      echo "READY $PORT"
      exit 0
    fi
    sleep 0.02
  done
) &
exec nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
