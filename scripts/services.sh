#!/usr/bin/env bash
# Makes sure every service the tests use is running on this machine: starts
# Redis, PostgreSQL and MariaDB if they stopped, installs and starts memcached,
# installs Chromium for the browser tests, promtool for sessionprom's alert
# rules, and nginx and Caddy for sessiond's real-proxy tests (which start
# their own instances, so none is started here). Idempotent; safe to run often.
set -u

log() { echo "services: $*" >&2; }

apt_updated=
apt_install() {
	if [ -z "$apt_updated" ]; then
		apt-get update -qq >/dev/null 2>&1 || log "apt-get update failed"
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || log "apt-get install $* failed"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
	for _ in $(seq 1 50); do port_open "$1" && return 0; sleep 0.2; done
	log "port $1 did not open"
	return 1
}

if ! port_open 6379; then
	log "starting redis"
	mkdir -p /var/lib/redis /var/log/redis
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
		--dir /var/lib/redis --logfile /var/log/redis/ci.log
	wait_port 6379
fi

if ! port_open 5432; then
	log "starting postgresql"
	pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
	wait_port 5432
fi

if ! port_open 3306; then
	log "starting mariadb"
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
	wait_port 3306
fi

if ! command -v memcached >/dev/null; then
	log "installing memcached"
	apt_install memcached
fi
if ! port_open 11211; then
	log "starting memcached"
	memcached -d -u nobody -l 127.0.0.1 -p 11211 -m 64
	wait_port 11211
fi

# promtool checks and unit-tests sessionprom/alerts.yaml (go test
# ./sessionprom/, which fails without it under CI). Debian ships it in the
# prometheus package; the server it also installs is not started.
if ! command -v promtool >/dev/null; then
	log "installing promtool"
	apt_install --no-install-recommends prometheus
fi

if ! command -v chromium >/dev/null; then
	log "installing chromium"
	apt_install chromium
fi
for proxy in nginx caddy; do
	if ! command -v "$proxy" >/dev/null; then
		log "installing $proxy"
		apt_install "$proxy"
	fi
done
exit 0
