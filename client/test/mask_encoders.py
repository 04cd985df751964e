# mask_encoders.py — writes each test value as the real encoders write it,
# for test_mask to mask: Python's json and urllib.parse (in this process),
# jq and node (run here: make deps installs both), and Go, whose output is
# checked in (mask_encoders_go.tsv, written by mask_encoders.go with Debian's
# Go 1.19: golang-go is too large to install for make test); where go is on
# the PATH, its own output is added too.  One line per form: the tool, the
# form, the value and the encoded value, those two in hex.
#
#   python3 mask_encoders.py > mask_encoded.tsv && ./test_mask mask_encoded.tsv
#   go run mask_encoders.go < values.json > mask_encoders_go.tsv   (values: --values)
import json, os, shutil, subprocess, sys, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))

# every ASCII punctuation character, controls and DEL, non-ASCII (U+2028
# and U+2029, which Go escapes), CRLF and LF lines, and passwords as users
# choose them
VALUES = [
    "p@ss/w!rd",
    "it's*(ok)! ~x~",
    " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ punct",
    "ctl\x01\x08\t\n\x0b\x0c\r\x1b\x1f\x7fend",
    "p\u00e4ssw\u00f6rd \u20ac100 \u2028\u2029 \U0001F511 <a&b>",
    "line one\r\nline two\nline three",
    "p@ss:w$rd&x=y+z,;/?#[]",
    "Zm9v+YmFy/MTIz==",
]


def record(tool, form, value, encoded):
    print("%s\t%s\t%s\t%s" % (tool, form, value.encode().hex(), encoded.encode().hex()))


def python_forms(v):
    record("python", "json.dumps", v, json.dumps(v)[1:-1])
    record("python", "json.dumps(ensure_ascii=False)", v, json.dumps(v, ensure_ascii=False)[1:-1])
    record("python", "quote(safe='')", v, urllib.parse.quote(v, safe=""))
    record("python", "quote", v, urllib.parse.quote(v))
    record("python", "quote_plus", v, urllib.parse.quote_plus(v))
    record("python", "urlencode", v, urllib.parse.urlencode({"k": v})[2:])


def run(argv, stdin=None):
    return subprocess.run(argv, input=stdin, capture_output=True, check=True).stdout


def jq_forms(v):
    for form, args, program in (("jq", [], "$v"), ("jq -a", ["-a"], "$v"),
                                ("jq @uri", ["-r"], "$v | @uri")):
        out = run(["jq", "-n"] + args + ["--arg", "v", v, program]).decode()
        assert out.endswith("\n")
        out = out[:-1]
        if form != "jq @uri":
            out = out[1:-1]
        record("jq", form, v, out)


NODE_PROGRAM = r"""
const values = JSON.parse(require("fs").readFileSync(0, "utf8"));
const qs = require("querystring");
const out = [];
for (const v of values) {
  out.push([v, "JSON.stringify", JSON.stringify(v).slice(1, -1)]);
  out.push([v, "encodeURIComponent", encodeURIComponent(v)]);
  out.push([v, "encodeURI", encodeURI(v)]);
  out.push([v, "URLSearchParams", new URLSearchParams({k: v}).toString().slice(2)]);
  out.push([v, "querystring.escape", qs.escape(v)]);
}
process.stdout.write(JSON.stringify(out));
"""


def node_forms():
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        sys.exit("mask_encoders.py: node is missing (make deps installs nodejs)")
    for v, form, encoded in json.loads(run([node, "-e", NODE_PROGRAM], json.dumps(VALUES).encode())):
        record("node", form, v, encoded)


def go_forms():
    with open(os.path.join(HERE, "mask_encoders_go.tsv")) as f:
        lines = f.read().splitlines()
    values = {bytes.fromhex(line.split("\t")[2]).decode() for line in lines}
    if values != set(VALUES):
        sys.exit("mask_encoders.py: mask_encoders_go.tsv is not for these values: "
                 "run mask_encoders.go again (see its header)")
    for line in lines:
        print(line)
    go = shutil.which("go")
    if go is None:
        return
    try:
        out = run([go, "run", os.path.join(HERE, "mask_encoders.go")], json.dumps(VALUES).encode())
    except (OSError, subprocess.CalledProcessError) as e:
        print("mask_encoders.py: go is on the PATH but could not run mask_encoders.go "
              "(%s): only the checked-in output is used" % e, file=sys.stderr)
        return
    for line in out.decode().splitlines():
        print(line.replace("go\t", "go-live\t", 1))


if len(sys.argv) > 1 and sys.argv[1] == "--values":
    print(json.dumps(VALUES))
    sys.exit(0)
for v in VALUES:
    python_forms(v)
    jq_forms(v)
node_forms()
go_forms()
