"""Structural checks of deploy/terraform, on the JSON that HashiCorp's HCL
parser (via @cdktf/hcl2json) made of every .tf file.

usage: check_terraform.py PARSED.json TERRAFORM_DIR
"""
import glob
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from checker import Checker  # noqa: E402

SKIP_KEYS = ("description", "error_message")
REF = re.compile(r"(?<![\w.])(var|local|module|data)\.([A-Za-z_][\w-]*)"
                 r"(?:\.([A-Za-z_][\w-]*))?")
RES_REF = re.compile(r"(?<![\w.])((?:aws|random)_[a-z0-9_]+|terraform_data)"
                     r"\.([A-Za-z_][\w-]*)")
MODULES = ("ecs_cluster", "ecs", "ecs_one_shot")  # called by the root
SUBMODULES = ("task_role",)  # called by those
TASK_SSM = {"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
            "ssm:PutParameter", "ssm:DeleteParameter", "ssm:DeleteParameters"}
TASK_KMS = {"kms:Decrypt", "kms:Encrypt"}
SPEC_ENV = {"EVPN_STORE", "EVPN_EGRESS", "SSM_PREFIX", "AWS_REGION",
            "SSM_KMS_KEY_ID", "VPN_ENDPOINT", "WG_PORT", "API_HOST",
            "API_PORT", "EVPN_POOL", "EVPN_LOG_LEVEL", "EVPN_STREAM_LISTEN"}


def strings(node, key=None):
    """Every string value in a parsed tree, skipping prose fields."""
    if key in SKIP_KEYS:
        return
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from strings(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)


def merge(files):
    """One module's files merged: blocks by type, then label(s)."""
    mod = {"variable": {}, "locals": {}, "output": {}, "module": {},
           "resource": {}, "data": {}, "other": []}
    for doc in files:
        for btype, body in doc.items():
            if btype == "locals":
                for blk in body:
                    mod["locals"].update(blk)
            elif btype in ("variable", "output", "module"):
                for name, blks in body.items():
                    mod[btype][name] = blks[0]
            elif btype in ("resource", "data"):
                for rtype, named in body.items():
                    for name, blks in named.items():
                        mod[btype]["%s.%s" % (rtype, name)] = blks[0]
            else:
                mod["other"].append({btype: body})
    return mod


def refs(tree):
    out = {"var": set(), "local": set(), "module": set(), "data": set(),
           "resource": set()}
    for s in strings(tree):
        if "${" not in s:
            continue
        for kind, a, b in REF.findall(s):
            if kind == "module":
                if b:  # module.X alone (depends_on) names no output
                    out["module"].add((a, b))
            elif kind == "data":
                out["data"].add("%s.%s" % (a, b))
            else:
                out[kind].add(a)
        for rtype, name in RES_REF.findall(s):
            out["resource"].add("%s.%s" % (rtype, name))
    return out


def check_module_refs(c, label, mod):
    r = refs(mod)
    declared = set(mod["variable"])
    c.check(r["var"] <= declared,
            "%s: every var.X used is declared" % label,
            sorted(r["var"] - declared))
    c.check(declared <= r["var"], "%s: every variable is used" % label,
            sorted(declared - r["var"]))
    c.check(r["local"] <= set(mod["locals"]),
            "%s: every local.X used is defined" % label,
            sorted(r["local"] - set(mod["locals"])))
    c.check(r["data"] <= set(mod["data"]),
            "%s: every data source used is declared" % label,
            sorted(r["data"] - set(mod["data"])))
    c.check(r["resource"] <= set(mod["resource"]),
            "%s: every resource referenced exists" % label,
            sorted(r["resource"] - set(mod["resource"])))
    return r


def self_test():
    """The checker must catch an undeclared and an unused variable."""
    c = Checker()
    mod = merge([{"variable": {"unused": [{}]},
                  "resource": {"aws_x": {"y": [{"a": "${var.missing}"}]}}}])
    check_module_refs(c, "self-test", mod)
    return c.failed == 2


def policy_statements(mod):
    doc = mod["data"].get("aws_iam_policy_document.task", {})
    return doc.get("statement", [])


def main():
    with open(sys.argv[1]) as f:
        parsed = json.load(f)
    tfdir = sys.argv[2]
    c = Checker()
    # print the checks of the self-test quietly
    saved = sys.stdout
    sys.stdout = open(os.devnull, "w")
    ok = self_test()
    sys.stdout.close()
    sys.stdout = saved
    c.check(ok, "self-test: the reference checker catches mistakes")

    for f in ("main.tf", "locals.tf", "variables.tf", "outputs.tf") + tuple(
            "modules/%s/%s.tf" % (m, n) for m in MODULES + SUBMODULES
            for n in ("main", "variables", "outputs")):
        c.check(f in parsed, "parsed " + f)

    groups = {}
    for rel, doc in parsed.items():
        d = os.path.dirname(rel)
        groups.setdefault(d, []).append(doc)
    mods = {d: merge(docs) for d, docs in groups.items()}
    root = mods.get("", merge([]))
    for d in sorted(mods):
        check_module_refs(c, d or "root", mods[d])

    # ---- JSON inputs
    with open(os.path.join(tfdir, "keygen-config.json")) as f:
        kg = json.load(f)
    c.check(set(kg) == {"ssm_prefix", "key_algorithm", "key_purpose",
                        "regenerate_keys"},
            "keygen-config.json keys", sorted(kg))
    c.check(kg.get("key_algorithm") == "curve25519" and
            kg.get("regenerate_keys") is False and
            re.fullmatch(r"(/[A-Za-z0-9_.-]+)+", kg.get("ssm_prefix", "")),
            "keygen-config.json values", kg)
    props = {}
    for p in sorted(glob.glob(os.path.join(tfdir, "properties.*.json"))):
        with open(p) as f:
            props[os.path.basename(p)] = json.load(f)
    c.check("properties.dev.json" in props, "properties.dev.json exists")
    used = set()
    for s in strings(root):
        used |= set(re.findall(r"local\.properties\.(\w+)", s))
    for name, pr in props.items():
        c.check(used <= set(pr), "%s has every property used" % name,
                sorted(used - set(pr)))
        c.check(pr.get("wg_port") == 51820, "%s: wg_port 51820" % name)
        c.check(isinstance(pr.get("desired_count"), int) and
                pr["desired_count"] >= 1, "%s: desired_count" % name)
    loc = root["locals"]
    c.check(loc.get("properties") ==
            '${jsondecode(file("${path.module}/properties.'
            '${var.environment}.json"))}',
            "locals load properties.<env>.json", loc.get("properties"))

    # ---- modules wired
    for m in MODULES:
        call = root["module"].get(m)
        if not c.check(call is not None, "root calls module %s" % m):
            continue
        c.check(call.get("source") == "./modules/" + m,
                "module %s source" % m, call.get("source"))
        sub = mods.get("modules/" + m, merge([]))
        args = set(call) - {"source", "depends_on", "count", "for_each",
                            "providers"}
        declared = set(sub["variable"])
        required = {v for v, b in sub["variable"].items() if "default" not in b}
        c.check(args <= declared, "module %s: no unknown arguments" % m,
                sorted(args - declared))
        c.check(required <= args, "module %s: every required input set" % m,
                sorted(required - args))
    for mname, out in refs(root)["module"]:
        sub = mods.get("modules/" + mname, merge([]))
        c.check(out in sub["output"], "module.%s.%s is an output" %
                (mname, out))
    ecs = mods.get("modules/ecs", merge([]))
    one = mods.get("modules/ecs_one_shot", merge([]))
    clu = mods.get("modules/ecs_cluster", merge([]))

    # ---- modules calling modules: the same wiring checks
    for d, mod in sorted(mods.items()):
        for m, call in sorted(mod["module"].items()):
            if not d:
                continue
            sub = mods.get("modules/" + m)
            if not c.check(call.get("source") == "../" + m and sub,
                           "%s calls module %s" % (d, m), call.get("source")):
                continue
            args = set(call) - {"source", "depends_on", "count",
                                "for_each", "providers"}
            declared = set(sub["variable"])
            required = {v for v, b in sub["variable"].items()
                        if "default" not in b}
            c.check(args <= declared and required <= args,
                    "%s -> %s: arguments match its variables" % (d, m),
                    sorted(args ^ declared))
        for mname, out in refs(mod)["module"]:
            sub = mods.get("modules/" + mname, merge([]))
            if d:
                c.check(out in sub["output"], "%s: module.%s.%s is an output"
                        % (d, mname, out))

    # ---- IAM: least privilege under {prefix}/* (modules/task_role)
    tr = mods.get("modules/task_role", merge([]))
    stmts = policy_statements(tr)
    c.check(len(stmts) == 3, "task_role: three policy statements")
    for st in stmts:
        acts, res = st.get("actions"), st.get("resources", [])
        sid = st.get("sid")
        c.check("effect" not in st or st["effect"] == "Allow",
                "task_role/%s: Allow statement" % sid)
        c.check(not st.get("not_actions") and not st.get("not_resources"),
                "task_role/%s: no NotAction/NotResource" % sid)
        if acts == "${var.ssm_actions}":
            c.check(res == ["${local.parameter_arn}/*"],
                    "task_role/%s: the callers' SSM actions only on "
                    "{prefix}/*" % sid, res)
        elif set(acts) <= TASK_KMS:
            c.check(res == ["${var.kms_key_arn}"],
                    "task_role/%s: KMS only on the chosen key" % sid, res)
        else:
            c.check(acts == ["ssm:GetParametersByPath"] and
                    res == ["${local.parameter_arn}"],
                    "task_role/%s: only listing the prefix itself" % sid,
                    (acts, res))
    pa = tr["locals"].get("parameter_arn", "")
    c.check(re.fullmatch(r"arn:aws:ssm:\$\{var\.region\}:\$\{data\.aws_"
                         r"caller_identity\.current\.account_id\}:"
                         r"parameter\$\{var\.ssm_prefix\}", pa),
            "task_role: parameter ARN is the prefix's", pa)
    rp = tr["resource"].get("aws_iam_role_policy.task", {})
    c.check(rp.get("policy") == "${data.aws_iam_policy_document.task.json}"
            and rp.get("role") == "${aws_iam_role.task.id}",
            "task_role: policy attached to the role")
    c.check(tr["output"].get("arn", {}).get("value") ==
            "${aws_iam_role.task.arn}", "task_role: outputs the role")
    for label, mod, need in (("ecs", ecs, TASK_SSM),
                             ("ecs_one_shot", one, None)):
        call = mod["module"].get("task_role", {})
        acts = call.get("ssm_actions", [])
        c.check(isinstance(acts, list) and acts and set(acts) <= TASK_SSM and
                not any("*" in a for a in acts),
                "%s: only the allowed SSM actions, no wildcards" % label,
                acts)
        if need:
            c.check(set(acts) == need, "%s: the task role's actions" % label,
                    sorted(set(acts) ^ need))
        else:
            c.check(not any("Delete" in a for a in acts),
                    "%s: the task role deletes nothing" % label, acts)
        c.check(call.get("ssm_prefix") == "${var.ssm_prefix}" and
                call.get("kms_key_arn") == "${var.kms_key_arn}",
                "%s: the role gets the prefix and the key" % label)
        td = mod["resource"].get("aws_ecs_task_definition.this", {})
        c.check(td.get("task_role_arn") == "${module.task_role.arn}" and
                td.get("execution_role_arn") == "${var.execution_role_arn}",
                "%s: task and execution roles" % label)
        cd = td.get("container_definitions", "")
        c.check('drop = ["ALL"]' in cd and 'user' in cd and '"10001:10001"'
                in cd, "%s: non-root, all capabilities dropped" % label)
        c.check('logDriver = "awslogs"' in cd and
                "aws_cloudwatch_log_group.this.name" in cd and
                "aws_cloudwatch_log_group.this" in mod["resource"],
                "%s: CloudWatch logs" % label)
        c.check(td.get("requires_compatibilities") == ["FARGATE"] and
                td.get("network_mode") == "awsvpc", "%s: Fargate" % label)
    for label, call in (("ecs", root["module"].get("ecs", {})),
                        ("ecs_one_shot", root["module"].get("ecs_one_shot",
                                                            {}))):
        c.check(call.get("ssm_prefix") == "${local.ssm_prefix}" and
                call.get("kms_key_arn") == "${aws_kms_key.ssm.arn}",
                "%s gets the prefix and the key" % label)
        c.check(call.get("environment") == "${local.container_environment}",
                "%s gets the etc/evpn.yaml environment" % label)
    c.check(loc.get("ssm_prefix") == "${local.keygen_config.ssm_prefix}",
            "one prefix: keygen-config.json's")
    exec_pol = clu["resource"].get("aws_iam_role_policy_attachment."
                                   "execution", {})
    c.check(exec_pol.get("policy_arn", "").endswith(
        "service-role/AmazonECSTaskExecutionRolePolicy"),
        "ecs_cluster: execution role policy")
    c.check("aws_ecs_cluster.this" in clu["resource"], "ecs_cluster: cluster")

    # ---- container environment (the variables etc/evpn.yaml reads)
    env = loc.get("container_environment", {})
    c.check(SPEC_ENV <= set(env), "container environment has etc/evpn.yaml's "
            "variables", sorted(SPEC_ENV - set(env)))
    c.check(env.get("EVPN_STORE") == "ssm" and
            env.get("API_HOST") == "0.0.0.0" and
            env.get("SSM_PREFIX") == "${local.ssm_prefix}" and
            env.get("AWS_REGION") == "${local.region}" and
            env.get("VPN_ENDPOINT") == "${local.vpn_endpoint}",
            "container environment values", env)
    ecd = ecs["resource"].get("aws_ecs_task_definition.this", {}).get(
        "container_definitions", "")
    c.check("var.environment" in ecd and "local.environment" in
            one["resource"].get("aws_ecs_task_definition.this", {}).get(
                "container_definitions", ""),
            "task definitions pass the environment")

    # ---- master key
    mk = root["resource"].get("aws_ssm_parameter.master_key", {})
    c.check(mk.get("type") == "SecureString" and
            mk.get("value") == "${random_password.master_key.result}" and
            mk.get("name") == "${local.ssm_prefix}/master-api-key" and
            mk.get("key_id") == "${aws_kms_key.ssm.arn}",
            "master key: SSM SecureString from random_password", mk)
    rp = root["resource"].get("random_password.master_key", {})
    c.check(rp.get("length", 0) >= 32, "master key length >= 32")
    c.check(root["output"].get("master_api_key", {}).get("sensitive") is True,
            "master key output is sensitive")

    # ---- keygen one-shot
    c.check(loc.get("keygen_config_json") ==
            '${file("${path.module}/keygen-config.json")}' and
            loc.get("keygen_config_sha256") ==
            "${sha256(local.keygen_config_json)}",
            "keygen hash = sha256(keygen-config.json)")
    call = root["module"].get("ecs_one_shot", {})
    c.check(call.get("config_sha256") == "${local.keygen_config_sha256}" and
            call.get("config_json") == "${local.keygen_config_json}" and
            call.get("command") == ["keygen"],
            "ecs_one_shot runs keygen with the config and its hash")
    run = one["resource"].get("terraform_data.run", {})
    c.check(run.get("triggers_replace") ==
            {"config_sha256": "${var.config_sha256}"},
            "one-shot trigger is the config hash", run.get("triggers_replace"))
    prov = run.get("provisioner") or {}
    if isinstance(prov, list):
        prov = prov[0] if prov else {}
    le = (prov.get("local-exec") or [{}])[0]
    c.check("aws ecs run-task" in le.get("command", "") and
            "tasks-stopped" in le.get("command", "") and
            le.get("environment", {}).get("TASK_DEF") ==
            "${aws_ecs_task_definition.this.arn}",
            "one-shot runs the task and waits for it")
    svc = one["resource"].get("aws_ecs_service.this", {})
    c.check(svc.get("desired_count") == 0 and
            svc.get("task_definition") ==
            "${aws_ecs_task_definition.this.arn}",
            "one-shot service has desired_count 0")
    c.check("${module.ecs_one_shot}" in root["module"].get("ecs", {}).get(
        "depends_on", []), "service waits for the keygen one-shot")

    # ---- service and scale-out
    c.check(root["module"].get("ecs", {}).get("desired_count") ==
            "${local.desired_count}" and
            ecs["resource"].get("aws_ecs_service.this", {}).get(
                "desired_count") == "${var.desired_count}",
            "desired_count wired to the service")
    lbs = ecs["resource"].get("aws_ecs_service.this", {}).get(
        "load_balancer", [])
    c.check(sorted(lb.get("container_port") for lb in lbs) ==
            ["${var.api_port}", "${var.stream_port}", "${var.wg_port}"],
            "service registers its three ports with the NLB")
    c.check("containerPort = var.stream_port" in ecd,
            "container port of the stream listener")
    c.check('protocol = "udp"' in ecd and "containerPort = var.wg_port" in ecd
            and "containerPort = var.api_port" in ecd and "/health" in ecd,
            "container ports 51820/udp + API, health check on /health")

    # ---- NLB: UDP 51820 and TLS with ACM for the API
    res = root["resource"]
    lb = res.get("aws_lb.this", {})
    c.check(lb.get("load_balancer_type") == "network", "an NLB")
    listeners = {k: v for k, v in res.items()
                 if k.startswith("aws_lb_listener.")}
    udp = [v for v in listeners.values() if v.get("protocol") == "UDP"]
    tls = [v for v in listeners.values() if v.get("protocol") == "TLS"]
    c.check(len(udp) == 1 and udp[0].get("port") == "${local.wg_port}" and
            loc.get("wg_port") == "${local.properties.wg_port}",
            "UDP listener on wg_port (51820)")
    api_l = listeners.get("aws_lb_listener.api", {})
    c.check(api_l.get("protocol") == "TLS" and api_l.get("port") ==
            "${local.api_tls_port}" and api_l.get("certificate_arn") ==
            "${var.api_certificate_arn}" and api_l.get("ssl_policy", "")
            .startswith("ELBSecurityPolicy-TLS13"),
            "API: TLS listener with the ACM certificate")
    # WireGuard over a TLS WebSocket where UDP is blocked: TLS ends at the
    # NLB (evpnd has none), on 443 by default, open to the world.
    st_l = listeners.get("aws_lb_listener.stream", {})
    c.check(st_l.get("protocol") == "TLS" and st_l.get("port") ==
            "${local.stream_tls_port}" and st_l.get("certificate_arn") ==
            "${local.stream_certificate_arn}" and st_l.get("ssl_policy", "")
            .startswith("ELBSecurityPolicy-TLS13"),
            "stream: TLS listener with an ACM certificate")
    c.check(len(tls) == 2, "two TLS listeners: the API and the stream")
    pre = " ".join(p.get("condition", "") for p in
                   (st_l.get("lifecycle") or [{}])[0].get("precondition", []))
    c.check("local.stream_tls_port" in pre and "local.api_tls_port" in pre,
            "stream and API TLS ports must differ (precondition)", pre)
    for name, pr in props.items():
        c.check(pr.get("stream_tls_port") == 443 and
                pr.get("api_tls_port") != 443,
                "%s: the stream on 443, the API elsewhere" % name)
    stg = res.get("aws_lb_target_group.stream", {})
    c.check(stg.get("protocol") == "TCP" and stg.get("target_type") == "ip"
            and stg.get("port") == "${local.stream_port}" and
            stg.get("preserve_client_ip") in (True, "true"),
            "stream target group: TCP to the stream port, client addresses "
            "kept (failed keys are throttled per address)")
    c.check(env.get("EVPN_STREAM_LISTEN") == "0.0.0.0:${local.stream_port}",
            "the container's stream listener", env.get("EVPN_STREAM_LISTEN"))
    c.check(not [v for v in listeners.values()
                 if v.get("protocol") not in ("UDP", "TLS")],
            "no plain TCP/HTTP listener for the API")
    tg = res.get("aws_lb_target_group.wg", {})
    c.check(tg.get("protocol") == "UDP" and tg.get("target_type") == "ip",
            "UDP target group (Fargate ip targets)")
    # The API throttles failed logins per client address: it must see the
    # client's address, not an NLB node's (AWS turns preservation off by
    # default for TCP/TLS target groups with ip targets).
    atg = res.get("aws_lb_target_group.api", {})
    c.check(atg.get("protocol") == "TCP" and atg.get("target_type") == "ip"
            and atg.get("preserve_client_ip") in (True, "true"),
            "API target group preserves client addresses "
            "(preserve_client_ip = true)", atg.get("preserve_client_ip"))
    c.check(not atg.get("proxy_protocol_v2"),
            "no proxy protocol header: the API does not parse one")

    # ---- the API never faces the world
    adm = root["variable"].get("admin_cidrs", {})
    c.check(adm and "default" not in adm, "admin_cidrs has no default")
    vals = " ".join(v.get("condition", "") for v in adm.get("validation", []))
    c.check("0.0.0.0/0" in vals and "::/0" in vals,
            "admin_cidrs validation rejects 0.0.0.0/0 and ::/0")
    for d, mod in sorted(mods.items()):
        for name, r in mod["resource"].items():
            if not name.startswith("aws_security_group."):
                continue
            for ing in r.get("ingress", []):
                cidrs = ing.get("cidr_blocks", [])
                open_ = cidrs == ["0.0.0.0/0"] or "0.0.0.0/0" in cidrs
                wg_udp = (ing.get("protocol") == "udp" and
                          ing.get("from_port") == ing.get("to_port"))
                stream = (ing.get("protocol") == "tcp" and
                          ing.get("from_port") == ing.get("to_port") ==
                          "${local.stream_tls_port}")
                c.check(not open_ or wg_udp or stream,
                        "%s %s: only WireGuard (UDP, and the stream's TLS "
                        "port) is open to the world" % (d or "root", name),
                        ing)
    nsg = res.get("aws_security_group.nlb", {})
    c.check(any(i.get("protocol") == "tcp" and
                i.get("cidr_blocks") == "${var.admin_cidrs}" and
                i.get("from_port") == "${local.api_tls_port}"
                for i in nsg.get("ingress", [])),
            "API listener port open to admin_cidrs only")
    c.check(not any(i.get("from_port") == "${local.api_tls_port}" and
                    i.get("cidr_blocks") != "${var.admin_cidrs}"
                    for i in nsg.get("ingress", [])),
            "no other rule opens the API port")
    tsg = ecs["resource"].get("aws_security_group.task", {})
    c.check(all(i.get("security_groups") == ["${var.nlb_security_group_id}"]
                and not i.get("cidr_blocks") for i in tsg.get("ingress", [])),
            "tasks accept traffic from the NLB only")

    c.finish()


if __name__ == "__main__":
    main()
