#!/usr/bin/env python3
"""Stands in for the user's web browser in tests (set as $BROWSER or run by a test).

Opens the authorize URL, reads the consent form, presses Approve (or Deny with
--decision deny) and follows the redirect back to Keygrant's loopback listener, as a
browser would. A redirect to a keygrant:// link is handed to --deep-link-handler (as the OS
would run the registered handler, `keygrant %u`), or printed when there is none. With
--log FILE it appends one line per step (status codes and URL paths, never query strings,
so no code or state is written down).

A redirect to https://127.0.0.1 (or localhost, or [::1]) meets Keygrant's self-signed
certificate for the sign-in: the script goes on as a user clicking through the browser's
warning does, logging the certificate's SHA-256 fingerprint as a browser's certificate viewer
shows it. Certificates are checked as usual for every other host.
"""
import argparse
import hashlib
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser


class ConsentForm(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden" and "name" in a:
            self.fields.append((a["name"], a.get("value", "")))


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def loopback_tls(parts):
    """The SSL context for a redirect to `parts`: verification off for https on a loopback
    host (the user accepts the self-signed certificate), None (the default checks) otherwise."""
    if parts.scheme != "https" or parts.hostname not in LOOPBACK_HOSTS:
        return None
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def fingerprint(parts):
    """The SHA-256 fingerprint of the certificate at `parts` (upper-case hex, colon-separated),
    or a short reason when it cannot be read."""
    try:
        pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=10)
    except (OSError, ssl.SSLError) as e:
        return f"unread ({type(e).__name__})"
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--decision", choices=["approve", "deny"], default="approve")
    p.add_argument("--log")
    p.add_argument("--delay", type=float, default=0.0, help="seconds to wait first, like a person reading")
    p.add_argument("--deep-link-handler", help="command that opens keygrant:// links")
    p.add_argument("--print-redirect", action="store_true",
                   help="print the address the broker redirects to instead of going there, like a "
                        "browser that cannot reach this computer (the user then pastes it)")
    p.add_argument("--redirect-host", help="go to the redirect on this host instead (e.g. [::1], as a "
                                           "browser resolving localhost to IPv6 does)")
    p.add_argument("--prefetch-first", action="store_true",
                   help="fetch the redirect speculatively (Sec-Purpose: prefetch) before going there")
    p.add_argument("url")
    args = p.parse_args()

    def log(msg):
        if args.log:
            with open(args.log, "a") as f:
                f.write(msg + "\n")

    time.sleep(args.delay)
    with urllib.request.urlopen(args.url, timeout=20) as resp:
        page = resp.read().decode()
        log(f"authorize page {resp.status} {urllib.parse.urlsplit(args.url).path}")
    form = ConsentForm()
    form.feed(page)
    if form.action is None:
        log("no consent form on the authorize page")
        sys.exit(3)
    body = urllib.parse.urlencode(form.fields + [("decision", args.decision)]).encode()
    target = urllib.parse.urljoin(args.url, form.action)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **kw):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(target, data=body, timeout=20)
        log("the decision did not redirect")
        sys.exit(4)
    except urllib.error.HTTPError as e:
        if e.code not in (301, 302, 303, 307):
            log(f"decision status {e.code}")
            sys.exit(4)
        location = e.headers["Location"]
    parts = urllib.parse.urlsplit(location)
    if args.print_redirect:
        log(f"printed the redirect to {parts.scheme}://{parts.netloc}{parts.path}")
        print(location, flush=True)
        return
    if args.redirect_host:
        port = f":{parts.port}" if parts.port else ""
        parts = parts._replace(netloc=f"{args.redirect_host}{port}")
        location = urllib.parse.urlunsplit(parts)
    if parts.scheme == "keygrant":
        log(f"deep link to {parts.scheme}://{parts.netloc}{parts.path}")
        if args.deep_link_handler:
            # The desktop starts the handler with the session's environment, not the
            # environment of the app that opened the browser (which, under WebDriver,
            # carries automation settings a second launch must not inherit).
            keep = ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS", "HOME", "PATH",
                    "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "LANG", "NO_AT_BRIDGE", "RUST_LOG")
            env = {k: v for k, v in os.environ.items() if k in keep}
            status = subprocess.run(args.deep_link_handler.split() + [location], env=env).returncode
            log(f"deep link handler exited {status}")
        else:
            print(location, flush=True)
        return
    tls = loopback_tls(parts)
    if tls is not None:
        log(f"accepted the self-signed certificate of {parts.scheme}://{parts.netloc} "
            f"(SHA-256 {fingerprint(parts)})")
    if args.prefetch_first:
        req = urllib.request.Request(location, headers={"Sec-Purpose": "prefetch"})
        try:
            with urllib.request.urlopen(req, timeout=20, context=tls) as resp:
                log(f"prefetch status {resp.status}")
        except urllib.error.HTTPError as e:
            log(f"prefetch status {e.code}")
    try:
        with urllib.request.urlopen(location, timeout=20, context=tls) as resp:
            log(f"redirected to {parts.scheme}://{parts.netloc}{parts.path} {resp.status}")
    except urllib.error.HTTPError as e:
        log(f"final page status {e.code}")
        sys.exit(4)


if __name__ == "__main__":
    main()
