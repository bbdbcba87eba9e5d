#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An SSM-compatible test server for evpn's `ssm` store.

Speaks the AWS JSON 1.1 protocol (POST /, X-Amz-Target: AmazonSSM.<Op>) for
GetParameter, GetParameters, PutParameter, DeleteParameter, DeleteParameters
and GetParametersByPath, with AWS error shapes ({"__type", "message"}).

Every SSM request's SigV4 signature is recomputed with Debian's
python3-botocore (botocore.auth.SigV4Auth, an implementation independent of
ours) and a mismatch is rejected as AWS does (InvalidSignatureException).
Unknown keys, missing or wrong session tokens and expired temporary
credentials are rejected too.

Also serves the credential endpoints of the ECS container flow (relative
URI, full URI + authorization token) and of EC2 IMDSv2 (PUT token, then GET
role and role credentials); the credentials they vend are accepted by the
SSM endpoint until they expire.

Side channel (loopback only, unsigned), for the tests:
  GET  /_test/stats         counters (per op, signature failures, faults, vends)
  GET  /_test/dump          every parameter (name -> value, type, version)
  POST /_test/faults  JSON  {"throttle": n, "error500": n, "drop": n,
                             "drop_after": n, "too_many_updates": n,
                             "throttle_rate": p, "error500_rate": p,
                             "drop_rate": p, "drop_after_rate": p,
                             "seed": s, "ops": ["PutParameter", ...],
                             "deny_prefix": "/x", "page_size": n,
                             "empty_pages": bool, "vend_ttl": s,
                             "fault_delay": s}
                            counters apply to the next n SSM requests; rates
                            to every request; "drop" closes the connection
                            before executing, "drop_after" after executing
                            (the client cannot tell whether it happened);
                            "fault_delay" holds back each throttle/500
                            answer that long.
  Stats "sig_repeat" counts valid signatures seen before (a client that
  re-sent a signature instead of signing its retry anew).
  POST /_test/expire        every vended credential expires now
  POST /_test/reset         clear faults and counters (not the data)

Must run with /usr/bin/python3 (Debian's, which has python3-botocore).
"""

import argparse
import base64
import datetime
import hmac
import hashlib
import json
import os
import random
import re
import secrets
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:  # pragma: no cover
    sys.stderr.write("ssm_server.py needs python3-botocore (/usr/bin/python3)\n")
    sys.exit(3)

NAME_RE = re.compile(r"^/[a-zA-Z0-9_.\-/]{1,1010}$")
FAULT_KINDS = ("drop", "drop_after", "error500", "throttle", "too_many_updates")
MAX_SKEW = 15 * 60


class AwsError(Exception):
    def __init__(self, type_, message, status=400):
        super().__init__(message)
        self.type = type_
        self.message = message
        self.status = status


class Dropped(Exception):
    pass


def iso8601(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.params = {}  # name -> dict
        self.region = args.region
        self.keys = {}  # access key id -> {sk, token, expires}
        for k in args.static_key or []:
            ak, sk = k.split(":", 1)
            self.keys[ak] = {"sk": sk, "token": None, "expires": None}
        self.kms_keys = {"alias/aws/ssm"} | set(args.kms_key or [])
        self.container_token = args.container_token
        self.role = "evpn-test-role"
        self.imds_tokens = {}  # token -> expiry
        self.reset_faults()
        self.page_size = args.page_size
        self.empty_pages = args.empty_pages
        self.vend_ttl = args.vend_ttl
        self.stats = {}

    def reset_faults(self):
        self.faults = {k: 0 for k in FAULT_KINDS}
        self.rates = {k: 0.0 for k in FAULT_KINDS}
        self.fault_ops = None
        self.fault_delay = 0.0
        self.seen_sigs = set()
        self.deny_prefix = None
        self.rng = random.Random(1)

    def count(self, key, n=1):
        self.stats[key] = self.stats.get(key, 0) + n

    def vend(self, source):
        with self.lock:
            ak = "ASIA" + secrets.token_hex(8).upper()
            sk = secrets.token_urlsafe(30)
            tok = base64.b64encode(secrets.token_bytes(96)).decode()
            exp = time.time() + self.vend_ttl
            self.keys[ak] = {"sk": sk, "token": tok, "expires": exp}
            self.count("vend." + source)
        return {"AccessKeyId": ak, "SecretAccessKey": sk, "Token": tok,
                "Expiration": iso8601(exp)}

    def pick_fault(self, op):
        """Which fault, if any, hits this request (lock held)."""
        if self.fault_ops is not None and op not in self.fault_ops:
            return None
        for k in FAULT_KINDS:
            if self.faults[k] > 0:
                self.faults[k] -= 1
                return k
        for k in FAULT_KINDS:
            if self.rates[k] and self.rng.random() < self.rates[k]:
                return k
        return None


def param_view(p, decrypt):
    v = p["Value"]
    if p["Type"] == "SecureString" and not decrypt:
        # Opaque stand-in for the KMS ciphertext AWS returns.
        v = "AQICAH" + base64.b64encode(hashlib.sha256(v.encode()).digest()).decode()
    return {"Name": p["Name"], "Type": p["Type"], "Value": v,
            "Version": p["Version"], "LastModifiedDate": p["LastModifiedDate"],
            "ARN": "arn:aws:ssm:us-east-1:123456789012:parameter" + p["Name"],
            "DataType": "text"}


class SSM:
    """The operations; called with st.lock held."""

    def __init__(self, st):
        self.st = st

    def _name(self, req, key="Name"):
        n = req.get(key)
        if not isinstance(n, str) or not NAME_RE.match(n) or "//" in n:
            raise AwsError("ValidationException",
                           "1 validation error detected: Value at '%s' failed to satisfy constraint" % key.lower())
        if self.st.deny_prefix and n.startswith(self.st.deny_prefix):
            raise AwsError("AccessDeniedException",
                           "User: arn:aws:sts::123456789012:assumed-role/test is not authorized to perform this action on resource: " + n)
        return n

    def GetParameter(self, req):
        n = self._name(req)
        p = self.st.params.get(n)
        if p is None:
            raise AwsError("ParameterNotFound", "Parameter %s not found." % n)
        return {"Parameter": param_view(p, bool(req.get("WithDecryption")))}

    def GetParameters(self, req):
        names = req.get("Names")
        if not isinstance(names, list) or not 1 <= len(names) <= 10:
            raise AwsError("ValidationException", "Names must hold 1 to 10 names")
        out, bad = [], []
        for n in names:
            n = self._name({"Name": n})
            p = self.st.params.get(n)
            if p is None:
                bad.append(n)
            else:
                out.append(param_view(p, bool(req.get("WithDecryption"))))
        return {"Parameters": out, "InvalidParameters": bad}

    def PutParameter(self, req):
        n = self._name(req)
        v = req.get("Value")
        t = req.get("Type")
        tier = req.get("Tier", "Standard")
        limit = 4096 if tier == "Standard" else 8192
        if not isinstance(v, str) or not 1 <= len(v) <= limit:
            raise AwsError("ValidationException", "Value must be 1 to %d characters" % limit)
        if t not in (None, "String", "StringList", "SecureString"):
            raise AwsError("ValidationException", "Type must be String, StringList or SecureString")
        key = req.get("KeyId")
        if key is not None and t != "SecureString":
            raise AwsError("ValidationException", "KeyId is only valid with Type SecureString")
        if t == "SecureString":
            key = key or "alias/aws/ssm"
            if key not in self.st.kms_keys:
                raise AwsError("InvalidKeyId", "Invalid KeyId: %s" % key)
        old = self.st.params.get(n)
        if old is not None and not req.get("Overwrite", False):
            raise AwsError("ParameterAlreadyExists",
                           "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
        if old is None and t is None:
            raise AwsError("ValidationException", "A parameter type is required when you create a parameter.")
        ver = old["Version"] + 1 if old else 1
        self.st.params[n] = {"Name": n, "Value": v, "Type": t or old["Type"],
                             "KeyId": key, "Version": ver,
                             "LastModifiedDate": time.time()}
        return {"Version": ver, "Tier": tier}

    def DeleteParameter(self, req):
        n = self._name(req)
        if self.st.params.pop(n, None) is None:
            raise AwsError("ParameterNotFound", "Parameter %s not found." % n)
        return {}

    def DeleteParameters(self, req):
        names = req.get("Names")
        if not isinstance(names, list) or not 1 <= len(names) <= 10:
            raise AwsError("ValidationException",
                           "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10")
        done, bad = [], []
        for n in names:
            n = self._name({"Name": n})
            (done if self.st.params.pop(n, None) is not None else bad).append(n)
        return {"DeletedParameters": done, "InvalidParameters": bad}

    def GetParametersByPath(self, req):
        path = req.get("Path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise AwsError("ValidationException", "Path must begin with /")
        if path != "/":
            path = path.rstrip("/")
            self._name({"Name": path}, "Name")
        mr = req.get("MaxResults", 10)
        if not isinstance(mr, int) or not 1 <= mr <= 10:
            raise AwsError("ValidationException", "MaxResults must be 1 to 10")
        recursive = bool(req.get("Recursive"))
        base = "/" if path == "/" else path + "/"
        after, served_empty = "", False
        if req.get("NextToken") is not None:
            try:
                tok = json.loads(base64.b64decode(req["NextToken"]))
                after, served_empty = tok["a"], tok["e"]
            except Exception:
                raise AwsError("ValidationException", "The NextToken is not valid.")
        names = sorted(n for n in self.st.params
                       if n.startswith(base) and n > after and
                       (recursive or "/" not in n[len(base):]))

        def token(a, e):
            return base64.b64encode(json.dumps({"a": a, "e": e}).encode()).decode()

        if not names:
            return {"Parameters": []}
        if self.st.empty_pages and not served_empty:
            return {"Parameters": [], "NextToken": token(after, True)}
        page = names[:min(mr, self.st.page_size)]
        out = {"Parameters": [param_view(self.st.params[n], bool(req.get("WithDecryption")))
                              for n in page]}
        if len(names) > len(page) or self.st.empty_pages:
            out["NextToken"] = token(page[-1], False)
        return out


AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request,\s*"
    r"SignedHeaders=([a-z0-9\-;]+),\s*Signature=([0-9a-f]{64})$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "evpn-ssm-test/1"

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            sys.stderr.write("ssm_server: " + (fmt % args) + "\n")

    # ---- plumbing
    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, obj=None, ctype="application/x-amz-json-1.1", raw=None, extra=None):
        data = raw if raw is not None else (json.dumps(obj).encode() if obj is not None else b"")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _aws_error(self, e):
        self._send(e.status, {"__type": e.type, "message": e.message},
                   extra={"x-amzn-ErrorType": e.type})

    def _drop(self):
        # Close without a response: the client sees an empty reply / reset.
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---- SigV4 verification with botocore
    def _verify(self, body, st):
        auth = self.headers.get("Authorization")
        if not auth:
            raise AwsError("MissingAuthenticationTokenException",
                           "Request is missing Authentication Token")
        m = AUTH_RE.match(auth.strip())
        if not m:
            raise AwsError("IncompleteSignatureException",
                           "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'")
        ak, date8, region, service, signed, sig = m.groups()
        with st.lock:
            key = st.keys.get(ak)
        if key is None:
            raise AwsError("UnrecognizedClientException",
                           "The security token included in the request is invalid.")
        tok = self.headers.get("X-Amz-Security-Token")
        if key["token"] is not None or tok is not None:
            if key["token"] is None or tok is None or not hmac.compare_digest(tok, key["token"]):
                raise AwsError("UnrecognizedClientException",
                               "The security token included in the request is invalid.")
        if key["expires"] is not None and time.time() >= key["expires"]:
            raise AwsError("ExpiredTokenException",
                           "The security token included in the request is expired")
        if service != "ssm" or region != st.region:
            raise AwsError("InvalidSignatureException",
                           "Credential should be scoped to a valid region/service: %s/%s" % (region, service))
        amz_date = self.headers.get("X-Amz-Date") or ""
        try:
            t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            raise AwsError("IncompleteSignatureException", "X-Amz-Date is missing or malformed")
        if abs(time.time() - t) > MAX_SKEW or amz_date[:8] != date8:
            raise AwsError("InvalidSignatureException", "Signature expired or date mismatch: " + amz_date)
        names = signed.split(";")
        need = {"host", "x-amz-date", "x-amz-target"} | ({"x-amz-security-token"} if tok else set())
        if not need <= set(names) or names != sorted(set(names)):
            raise AwsError("InvalidSignatureException",
                           "SignedHeaders must be sorted and include " + ";".join(sorted(need)))
        sha = self.headers.get("X-Amz-Content-SHA256")
        if sha is not None and sha != hashlib.sha256(body).hexdigest():
            raise AwsError("InvalidSignatureException", "X-Amz-Content-SHA256 does not match the body")
        req = AWSRequest(method=self.command,
                         url="http://" + self.headers.get("Host", "") + self.path,
                         data=body)
        for n in names:
            vals = self.headers.get_all(n)
            if not vals:
                raise AwsError("InvalidSignatureException", "Signed header %s is missing" % n)
            for v in vals:
                req.headers[n] = v
        req.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(ak, key["sk"], key["token"]), service, region)
        creq = signer.canonical_request(req)
        expect = signer.signature(signer.string_to_sign(req, creq), req)
        if not hmac.compare_digest(expect, sig):
            raise AwsError("InvalidSignatureException",
                           "The request signature we calculated does not match the signature you provided. "
                           "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n"
                           "The Canonical String for this request should have been\n'%s'" % creq)
        with st.lock:
            if sig in st.seen_sigs:
                st.count("sig_repeat")
            st.seen_sigs.add(sig)

    # ---- verbs
    def do_POST(self):
        st = self.server.st
        body = self._body()
        if self.path.startswith("/_test/"):
            return self._control(body)
        target = self.headers.get("X-Amz-Target", "")
        op = target[len("AmazonSSM."):] if target.startswith("AmazonSSM.") else None
        with st.lock:
            st.count("requests")
        try:
            self._verify(body, st)
        except AwsError as e:
            with st.lock:
                st.count("sig_rejected")
                st.count("sig_rejected." + e.type)
            return self._aws_error(e)
        fn = getattr(SSM, op, None) if op and not op.startswith("_") else None
        if fn is None:
            return self._aws_error(AwsError("UnknownOperationException", "Unknown operation " + target))
        try:
            req = json.loads(body or b"{}")
            if not isinstance(req, dict):
                raise ValueError
        except ValueError:
            return self._aws_error(AwsError("SerializationException", "Malformed JSON body"))
        with st.lock:
            fault = st.pick_fault(op)
            if fault:
                st.count("fault." + fault)
            st.count("op." + op)
            if fault == "drop":
                res = None
            elif fault in ("throttle", "error500", "too_many_updates"):
                res = None
            else:
                try:
                    res = fn(SSM(st), req)
                    st.count("ok." + op)
                except AwsError as e:
                    res = e
                    st.count("err." + op + "." + e.type)
        if fault in ("drop", "drop_after"):
            return self._drop()
        if fault in ("throttle", "too_many_updates", "error500") and st.fault_delay:
            time.sleep(st.fault_delay)
        if fault == "throttle":
            return self._aws_error(AwsError("ThrottlingException", "Rate exceeded"))
        if fault == "too_many_updates":
            return self._aws_error(AwsError("TooManyUpdates",
                                            "There are concurrent updates for a resource that supports one update at a time."))
        if fault == "error500":
            return self._aws_error(AwsError("InternalServerError", "An internal error occurred", 500))
        if isinstance(res, AwsError):
            return self._aws_error(res)
        self._send(200, res)

    def do_PUT(self):
        st = self.server.st
        self._body()
        if self.path == "/latest/api/token":
            try:
                ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
            except ValueError:
                ttl = 0
            if not 1 <= ttl <= 21600:
                return self._send(400, raw=b"bad ttl", ctype="text/plain")
            tok = secrets.token_urlsafe(32)
            with st.lock:
                st.imds_tokens[tok] = time.time() + ttl
                st.count("vend.imds_token")
            return self._send(200, raw=tok.encode(), ctype="text/plain",
                              extra={"X-aws-ec2-metadata-token-ttl-seconds": str(ttl)})
        self._send(404, raw=b"not found", ctype="text/plain")

    def do_GET(self):
        st = self.server.st
        if self.path == "/_test/stats":
            with st.lock:
                return self._send(200, dict(st.stats), ctype="application/json")
        if self.path == "/_test/dump":
            with st.lock:
                d = {n: {"Value": p["Value"], "Type": p["Type"], "Version": p["Version"],
                         "KeyId": p["KeyId"]} for n, p in st.params.items()}
            return self._send(200, d, ctype="application/json")
        if self.path.startswith("/v2/credentials/"):
            # ECS: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
            return self._send(200, dict(st.vend("container"),
                                        RoleArn="arn:aws:iam::123456789012:role/evpn-task"),
                              ctype="application/json")
        if self.path == "/full/credentials":
            # AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN
            a = self.headers.get("Authorization")
            if a is None or not hmac.compare_digest(a, st.container_token):
                with st.lock:
                    st.count("vend.container_full_denied")
                return self._send(401, {"message": "unauthorized"}, ctype="application/json")
            return self._send(200, st.vend("container_full"), ctype="application/json")
        if self.path.startswith("/latest/meta-data/iam/security-credentials/"):
            tok = self.headers.get("X-aws-ec2-metadata-token")
            with st.lock:
                ok = tok is not None and st.imds_tokens.get(tok, 0) > time.time()
            if not ok:  # IMDSv2 only: v1 (no token) is refused
                with st.lock:
                    st.count("vend.imds_unauthorized")
                return self._send(401, raw=b"", ctype="text/plain")
            role = self.path[len("/latest/meta-data/iam/security-credentials/"):]
            if role == "":
                return self._send(200, raw=st.role.encode(), ctype="text/plain")
            if role != st.role:
                return self._send(404, raw=b"", ctype="text/plain")
            c = st.vend("imds")
            c.update({"Code": "Success", "Type": "AWS-HMAC", "LastUpdated": iso8601(time.time())})
            return self._send(200, c, ctype="text/plain")
        self._send(404, raw=b"not found", ctype="text/plain")

    def _control(self, body):
        st = self.server.st
        with st.lock:
            if self.path == "/_test/faults":
                try:
                    f = json.loads(body or b"{}")
                except ValueError:
                    return self._send(400, {"error": "bad json"}, ctype="application/json")
                for k in FAULT_KINDS:
                    if k in f:
                        st.faults[k] = int(f[k])
                    if k + "_rate" in f:
                        st.rates[k] = float(f[k + "_rate"])
                if "seed" in f:
                    st.rng = random.Random(f["seed"])
                if "ops" in f:
                    st.fault_ops = set(f["ops"]) if f["ops"] else None
                if "deny_prefix" in f:
                    st.deny_prefix = f["deny_prefix"]
                if "page_size" in f:
                    st.page_size = int(f["page_size"])
                if "empty_pages" in f:
                    st.empty_pages = bool(f["empty_pages"])
                if "fault_delay" in f:
                    st.fault_delay = float(f["fault_delay"])
                if "vend_ttl" in f:
                    st.vend_ttl = float(f["vend_ttl"])
                if "kms_keys" in f:
                    st.kms_keys = {"alias/aws/ssm"} | set(f["kms_keys"])
            elif self.path == "/_test/expire":
                now = time.time()
                for k in st.keys.values():
                    if k["expires"] is not None:
                        k["expires"] = min(k["expires"], now - 1)
            elif self.path == "/_test/reset":
                st.reset_faults()
                st.stats = {}
            else:
                return self._send(404, {"error": "unknown"}, ctype="application/json")
        self._send(200, {"ok": True}, ctype="application/json")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    ap.add_argument("--static-key", action="append", metavar="AKID:SECRET",
                    help="a long-term key the server accepts (repeatable)")
    ap.add_argument("--kms-key", action="append", help="extra valid KMS key id/alias")
    ap.add_argument("--container-token", default="evpn-test-container-token")
    ap.add_argument("--page-size", type=int, default=10)
    ap.add_argument("--empty-pages", action="store_true")
    ap.add_argument("--vend-ttl", type=float, default=3600.0)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.st = State(args)
    srv.quiet = args.quiet
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    sys.stderr.write("ssm_server: listening on 127.0.0.1:%d\n" % port)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
