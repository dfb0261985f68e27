// Command sessiond is sessionkit's forward-auth server: it gives apps in
// any language behind nginx, Caddy, Traefik or Envoy the sessions of the Go
// library. The proxy asks sessiond about each request; sessiond answers
// allow (with the user's identity in headers the proxy copies to the app),
// sign in first, or forbidden, and serves the sign-in page.
//
//	sessiond add-user -users users.txt -groups admins alice   # asks for a password
//	sessiond -users users.txt -store sqlite:sessiond.db -rule '/public=anonymous' -rule '/admin=group:admins'
//	sessiond listening on http://127.0.0.1:9091
//
// Subcommands:
//
//	sessiond [serve] [flags]       serve (see sessiond -h)
//	sessiond check-config [flags]  validate the serve flags and the users file, then exit
//	sessiond hash-password         read a password on stdin, print its argon2id hash
//	sessiond add-user [flags] NAME read a password on stdin, add NAME to a users file
//
// Endpoints (see package forwardauth):
//
//	/auth/nginx     nginx auth_request
//	/auth/forward   Traefik forwardAuth, Caddy forward_auth
//	/auth/envoy/... Envoy ext_authz HTTP service (path_prefix /auth/envoy)
//	/login, /logout the sign-in page, sign-out (POST)
//	/healthz        200 when the store answers
//	/metrics        Prometheus metrics
//
// # nginx
//
//	location = /_sessiond/auth {
//		internal;
//		proxy_pass http://127.0.0.1:9091/auth/nginx;
//		proxy_pass_request_body off;
//		proxy_set_header Content-Length "";
//		proxy_set_header Host $http_host;
//		proxy_set_header X-Forwarded-Host $http_host;
//		proxy_set_header X-Original-Method $request_method;
//		proxy_set_header X-Original-URI $request_uri;
//		proxy_set_header X-Forwarded-Proto $scheme;
//	}
//	location ~ ^/_sessiond/(login|logout)$ { # the sign-in page, on the app's own host
//		proxy_pass http://127.0.0.1:9091/$1$is_args$args;
//		proxy_set_header Host $http_host;
//		proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
//	}
//	location / {
//		auth_request /_sessiond/auth;
//		auth_request_set $login $upstream_http_location;
//		error_page 401 =302 $login;
//		auth_request_set $user $upstream_http_remote_user;
//		auth_request_set $groups $upstream_http_remote_groups;
//		auth_request_set $email $upstream_http_remote_email;
//		auth_request_set $sid $upstream_http_remote_session;
//		# An empty value removes the header: what the client sent never passes.
//		proxy_set_header Remote-User $user;
//		proxy_set_header Remote-Groups $groups;
//		proxy_set_header Remote-Email $email;
//		proxy_set_header Remote-Session $sid;
//		proxy_pass http://app;
//	}
//
// with sessiond -login-url /_sessiond/login. The tests run this
// configuration against Debian's nginx.
//
// # Caddy
//
//	app.example.com {
//		@signin path /_sessiond/login /_sessiond/logout
//		handle @signin {
//			uri strip_prefix /_sessiond
//			reverse_proxy 127.0.0.1:9091
//		}
//		handle {
//			route { # in this order: remove what the client sent, then ask
//				request_header -Remote-User
//				request_header -Remote-Groups
//				request_header -Remote-Email
//				request_header -Remote-Session
//				request_header -Remote_User
//				request_header -Remote_Groups
//				request_header -Remote_Email
//				request_header -Remote_Session
//				forward_auth 127.0.0.1:9091 {
//					uri /auth/forward
//					copy_headers Remote-User Remote-Groups Remote-Email Remote-Session
//				}
//				reverse_proxy app:8080
//			}
//		}
//	}
//
// Traefik: a forwardAuth middleware with address
// http://127.0.0.1:9091/auth/forward and authResponseHeaders listing the
// four headers. Envoy: ext_authz with http_service path_prefix
// /auth/envoy, allowed_headers cookie, accept and x-forwarded-proto,
// allowed_upstream_headers the four headers, allowed_client_headers
// location. Their request shapes are replayed in forwardauth's tests; they
// are not packaged by Debian, so they do not run there.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sessiond:", err)
		os.Exit(1)
	}
}
