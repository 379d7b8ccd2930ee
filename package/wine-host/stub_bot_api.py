#!/usr/bin/env python3
"""A tiny Telegram Bot API stand-in for the Wine smoke test (when tg-sandbox is not used).

    stub_bot_api.py [--port N] [--token 123456:ABC] [--port-file FILE]

Listens on 127.0.0.1 only. Answers /bot<token>/getMe, sendMessage, getUpdates (one queued user message, then
short empty long polls) and deleteWebhook with Telegram-shaped JSON; a wrong token gets 401 Unauthorized, an unknown method 404, as the
real Bot API does. Port 0 picks a free port; the port is printed (and written to
--port-file) once the server listens. Stops on SIGTERM/SIGINT.
"""
import argparse
import json
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", default="123456:TEST-token_for-wine")
    ap.add_argument("--port-file")
    ap.add_argument("--queue-text", default="wine-poll-probe",
                    help="text of a user message queued for getUpdates")
    args = ap.parse_args()
    bot_id = int(args.token.split(":", 1)[0])
    state = {"message_id": 0}
    user = {"id": 100200300, "is_bot": False, "first_name": "Wine", "username": "wine_user"}
    # One update waiting for getUpdates, as if the user had written to the bot.
    updates = [{"update_id": 500, "message": {
        "message_id": 1, "from": user, "date": int(time.time()),
        "chat": {"id": user["id"], "type": "private", "first_name": "Wine", "username": "wine_user"},
        "text": args.queue_text}}]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):  # keep the test output short
            sys.stderr.write("stub: " + (fmt % a) + "\n")

        def reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def params(self):
            url = urlparse(self.path)
            params = {k: v[-1] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            ctype = self.headers.get("Content-Type", "")
            if raw and "json" in ctype:
                params.update(json.loads(raw))
            elif raw:
                params.update({k: v[-1] for k, v in parse_qs(raw.decode()).items()})
            return url.path, params

        def handle_call(self):
            path, params = self.params()
            parts = path.strip("/").split("/")
            if len(parts) != 2 or not parts[0].startswith("bot"):
                return self.reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            token, method = parts[0][3:], parts[1].lower()
            if token != args.token:
                return self.reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            if method == "getme":
                return self.reply(200, {"ok": True, "result": {
                    "id": bot_id, "is_bot": True, "first_name": "Stub Bot", "username": "stub_bot",
                    "can_join_groups": True, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}})
            if method == "getupdates":
                offset = int(params.get("offset") or 0)
                pending = [u for u in updates if u["update_id"] >= offset]
                if not pending:  # a short long poll, then nothing
                    time.sleep(min(float(params.get("timeout") or 0), 1.0))
                return self.reply(200, {"ok": True, "result": pending})
            if method == "deletewebhook":
                return self.reply(200, {"ok": True, "result": True})
            if method == "sendmessage":
                if "chat_id" not in params or not params.get("text"):
                    return self.reply(400, {"ok": False, "error_code": 400,
                                            "description": "Bad Request: message text is empty"})
                state["message_id"] += 1
                chat_id = params["chat_id"]
                try:
                    chat_id = int(chat_id)
                except (TypeError, ValueError):
                    pass
                return self.reply(200, {"ok": True, "result": {
                    "message_id": state["message_id"],
                    "from": {"id": bot_id, "is_bot": True, "first_name": "Stub Bot", "username": "stub_bot"},
                    "chat": {"id": chat_id, "type": "private", "first_name": "Wine"},
                    "date": int(time.time()), "text": params["text"]}})
            return self.reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})

        do_GET = handle_call
        do_POST = handle_call

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.port_file:
        with open(args.port_file, "w") as f:
            f.write(f"{port}\n")
    print(port, flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
