#!/usr/bin/env python3
"""Checks META.json against PGXN's meta spec 1.0.0 and against the tree.

Usage: check_meta.py [META.json]   (from the project root)

The spec's rules (https://pgxn.org/spec/): the mandatory fields, names as
terms, SemVer versions, a known license, provides, prereqs and tags of the
right shape.  Then the tree: every file named exists, and each extension's
version is its control file's default_version, and the distribution's is
what client/Makefile reads as the client's version (client/meta_version.awk).
Prints each problem and exits 1, or prints "META.json is OK".
"""
import json, os, re, subprocess, sys

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")
LICENSES = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd",
            "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit",
            "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5", "postgresql", "qpl_1_0", "ssleay",
            "sun", "zlib", "open_source", "restricted", "unrestricted", "unknown"}
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}


def is_term(value):
    return isinstance(value, str) and len(value) >= 2 and not re.search(r"[\s/\\\x00-\x1f]", value)


def control_version(extension):
    with open(extension + ".control") as f:
        for line in f:
            m = re.match(r"\s*default_version\s*=\s*'([^']*)'", line)
            if m:
                return m.group(1)
    return None


def problems(meta):
    for field in ("name", "abstract", "version", "maintainer", "license", "provides", "meta-spec"):
        if field not in meta:
            yield f"the mandatory field {field} is missing"
    if meta.get("meta-spec", {}).get("version") != "1.0.0":
        yield "meta-spec.version is not 1.0.0"
    if not is_term(meta.get("name")):
        yield "name is not a term (two or more characters, no space, slash or control character)"
    if not SEMVER.match(str(meta.get("version", ""))):
        yield "version is not SemVer"
    if not isinstance(meta.get("abstract"), str) or not meta["abstract"]:
        yield "abstract is not a non-empty string"
    licenses = meta.get("license")
    if isinstance(licenses, str):
        licenses = [licenses]
    if not isinstance(licenses, (list, dict)) or (isinstance(licenses, list) and
                                                  not all(l in LICENSES for l in licenses)):
        yield "license is not one the spec names"
    if meta.get("release_status", "stable") not in ("stable", "testing", "unstable"):
        yield "release_status is not stable, testing or unstable"
    for name, ext in (meta.get("provides") or {}).items():
        if not is_term(name):
            yield f"provides: {name} is not a term"
        if not SEMVER.match(str(ext.get("version", ""))):
            yield f"provides.{name}.version is not SemVer"
        for key in ("file", "docfile"):
            if key in ext and not os.path.isfile(ext[key]):
                yield f"provides.{name}.{key}: {ext[key]} does not exist"
        if "file" not in ext:
            yield f"provides.{name}.file is missing"
        control = control_version(name) if os.path.isfile(name + ".control") else None
        if control is None:
            yield f"provides.{name}: no {name}.control with a default_version"
        elif ext.get("version") != control + ".0" * (2 - control.count(".")):
            yield (f"provides.{name}.version {ext.get('version')} is not {name}.control's "
                   f"default_version {control} as SemVer")
    for phase, relations in (meta.get("prereqs") or {}).items():
        if phase not in PHASES:
            yield f"prereqs: {phase} is not a phase"
            continue
        for relation, needs in relations.items():
            if relation not in RELATIONS:
                yield f"prereqs.{phase}: {relation} is not a relationship"
                continue
            for need, version in needs.items():
                if version != 0 and not SEMVER.match(str(version)):
                    yield f"prereqs.{phase}.{relation}.{need}: {version} is not 0 or SemVer"
    for tag in meta.get("tags", []):
        if not isinstance(tag, str) or not 0 < len(tag) < 256:
            yield f"tags: {tag!r} is not a string of 1 to 255 characters"


def client_version(path):
    """The version client/Makefile builds into the client's programs."""
    done = subprocess.run(["awk", "-f", "client/meta_version.awk", path],
                          capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "META.json"
    with open(path) as f:
        meta = json.load(f)
    found = list(problems(meta))
    client = client_version(path)
    if client != meta.get("version"):
        found.append(f"version {meta.get('version')} is not the one client/meta_version.awk "
                     f"reads for the client, {client}")
    for p in found:
        print(f"{path}: {p}")
    if found:
        sys.exit(1)
    print(f"{path} is OK")


if __name__ == "__main__":
    main()
