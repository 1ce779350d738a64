#!/usr/bin/python3
"""The layer rule test: which src/ layer may include which.

Scans every .hpp/.cpp under src/ for `#include "..."` and `#include <...>` and checks each against
RULES below, the one table of what a layer may see. The static libraries in src/CMakeLists.txt
link along the same lines, but a link does not stop an include (headers reach through include
paths and transitive links); this test does.

    tests/lint/check_layers.py [SRC_DIR]   # default: the repository's src/
    tests/lint/check_layers.py --self-test # injects forbidden includes into a copy; must fail
"""

import fnmatch
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# External headers, by group. A `<...>` header is in the first group one of its patterns matches
# (a pattern ending in '/' is a directory prefix). A header in none of them is the C++ standard
# library when it has neither '/' nor '.' in its name, C/POSIX when it matches POSIX; anything
# else is an unknown external and fails until a group here names it.
EXTERNAL = {
    # Asio's TLS wraps OpenSSL: it counts as OpenSSL, not as Asio.
    "openssl": ["openssl/", "boost/asio/ssl/", "boost/asio/ssl.hpp"],
    # The coroutine vocabulary of Asio, all the domain layer may use.
    "asio-coro": ["boost/asio/awaitable.hpp", "boost/asio/this_coro.hpp",
                  "boost/asio/co_spawn.hpp", "boost/asio/use_awaitable.hpp",
                  "boost/asio/any_io_executor.hpp", "boost/asio/detached.hpp"],
    "asio": ["boost/asio/", "boost/asio.hpp"],
    "beast": ["boost/beast/", "boost/beast.hpp"],
    "json": ["boost/json/", "boost/json.hpp"],
    # Header-only Boost vocabulary used by core's public headers (Result, source_location).
    "boost-util": ["boost/system/", "boost/assert/"],
    "sqlite": ["sqlite3.h"],
    "libpq": ["libpq-fe.h", "postgresql/"],
    "sodium": ["sodium.h"],
    "cli11": ["CLI/"],
    "icu": ["unicode/"],
}
POSIX = re.compile(r"^(sys|arpa|netinet|net)/[a-z_]+\.h$|^(unistd|fcntl|pthread|termios|errno|"
                   r"signal|poll|netdb|dlfcn|time|string|stdlib|stdio|stdint|pwd)\.h$")

# layer -> (src/ layers it may include, external groups it may include,
#           {external group: file patterns where only that group is allowed}).
# "std" is the C++ standard library and the C/POSIX headers. Every layer may include itself.
# Derived from the link graph in src/CMakeLists.txt.
ANY = "*"
# The OpenAI client's sources and their private header (not included outside them).
OPENAI_TRANSPORT = ["ai/openai_provider.cpp", "ai/openai_connect.cpp", "ai/openai_io_tcp.cpp",
                    "ai/openai_io_tls.cpp", "ai/openai_transport.hpp"]
RULES = {
    # ICU only behind core/unicode.hpp's few functions.
    "core": ({"core"}, {"std", "asio-coro", "asio", "boost-util"},
             {"icu": ["core/unicode.cpp"]}),
    "observability": ({"core", "observability"}, {"std"}, {}),
    "config": ({"core", "config"}, {"std", "json", "boost-util"}, {}),
    "domain": ({"core", "domain"}, {"std", "asio-coro", "boost-util"}, {}),
    "guards": ({"core", "guards"}, {"std", "boost-util"}, {}),
    "assets": ({"core", "assets"}, {"std"}, {}),
    "security": ({"core", "config", "domain", "observability", "security"},
                 {"std", "sodium", "json", "boost-util"}, {}),
    # libpq only in the PostgreSQL store's sources; config for its URL masking; guards for the
    # shared rate limits' port.
    "storage": ({"core", "domain", "assets", "config", "guards", "storage"},
                {"std", "sqlite", "asio-coro", "asio", "boost-util"},
                {"libpq": ["storage/postgresql/*.cpp"]}),
    # Beast and OpenSSL only where the HTTP transport is implemented.
    "ai": ({"core", "config", "domain", "observability", "ai"},
           {"std", "json", "asio-coro", "asio", "boost-util"},
           {"beast": OPENAI_TRANSPORT, "openssl": OPENAI_TRANSPORT}),
    # The payment provider's client: Beast and OpenSSL only in its one source.
    "payments": ({"core", "config", "domain", "observability", "payments"},
                 {"std", "json", "asio-coro", "asio", "boost-util"},
                 {"beast": ["payments/stripe_client.cpp"], "openssl": ["payments/stripe_client.cpp"]}),
    # Beast in http's sources and in the two headers that hand Beast types to them.
    "http": ({"core", "observability", "http"}, {"std", "asio-coro", "asio", "boost-util"},
             {"beast": ["http/*.cpp", "http/beast_request.hpp", "http/streaming.hpp"]}),
    "api": ({"core", "config", "domain", "http", "security", "guards", "assets", "observability",
             "api"}, {"std", "json", "asio-coro", "asio", "boost-util"}, {}),
    "app": (ANY, ANY, {}),
    # The operator's command line: the composition root's services, the store's backup, and
    # the API's time format.
    "cli": ({"core", "config", "domain", "app", "storage", "api", "cli"},
            {"std", "cli11", "asio-coro", "asio", "boost-util"}, {}),
    "main.cpp": (ANY, ANY, {}),
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(relative):
    """The layer of a path relative to src/: its first folder, or main.cpp."""
    parts = Path(relative).parts
    return parts[0] if len(parts) > 1 else parts[0]


def external_group(header):
    for group, patterns in EXTERNAL.items():
        for pattern in patterns:
            if header == pattern or (pattern.endswith("/") and header.startswith(pattern)):
                return group
    if "/" not in header and "." not in header:
        return "std"
    if POSIX.match(header):
        return "std"
    return None


def check_include(src, relative, quote, header):
    """Returns why this include breaks the rules, or None."""
    layer = layer_of(relative)
    if layer not in RULES:
        return f"no rule for layer '{layer}': add it to RULES in {Path(__file__).name}"
    layers, externals, only_in = RULES[layer]
    if quote == '"':
        if not (src / header).is_file() and (src / Path(relative).parent / header).is_file():
            header = str(Path(relative).parent / header)  # relative to the including file
        target = layer_of(header)
        if layers == ANY or target == layer or target in layers:
            return None
        return (f"layer '{layer}' may include only {', '.join(sorted(layers))}; "
                f"'{target}/' is not one of them")
    group = external_group(header)
    if group is None:
        return (f"unknown external header: name it in EXTERNAL in {Path(__file__).name} "
                "and allow its group where it belongs")
    if externals == ANY or group in externals:
        return None
    if group in only_in:
        if any(fnmatch.fnmatchcase(relative, p) for p in only_in[group]):
            return None
        return (f"'{group}' headers are allowed in layer '{layer}' only in "
                f"{', '.join(only_in[group])}")
    return (f"layer '{layer}' may not include '{group}' headers "
            f"(allowed: {', '.join(sorted(externals))})")


def check(src):
    """Prints each forbidden include; returns how many there were."""
    src = Path(src).resolve()
    failures = 0
    files = sorted(p for p in src.rglob("*") if p.suffix in (".hpp", ".cpp") and p.is_file())
    for path in files:
        relative = path.relative_to(src).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            quote, header = match.groups()
            reason = check_include(src, relative, quote, header)
            if reason:
                shown = f"{quote}{header}{'>' if quote == '<' else quote}"
                print(f"src/{relative}:{number}: forbidden #include {shown}: {reason}")
                failures += 1
    if failures:
        print(f"{failures} forbidden include(s) in {len(files)} files; the rules are the table "
              f"RULES in tests/lint/{Path(__file__).name}")
    else:
        print(f"layer rules hold in {len(files)} files under {src}")
    return failures


# Each case: a file, the include injected into it, and the message expected for it.
SELF_TEST_CASES = [
    ("domain/store.hpp", "#include <sqlite3.h>", "may not include 'sqlite' headers"),
    ("api/routes.hpp", "#include <boost/beast/http.hpp>", "may not include 'beast' headers"),
    ("domain/store.cpp", "#include <sodium.h>", "may not include 'sodium' headers"),
    ("domain/store.cpp", '#include "storage/sqlite/sqlite_store.hpp"', "'storage/' is not one"),
    ("ai/openai_provider.hpp", "#include <boost/beast/core.hpp>",
     "allowed in layer 'ai' only in"),
    ("core/error.hpp", "#include <zmq.h>", "unknown external header"),
    ("storage/postgresql/pg_store.hpp", "#include <libpq-fe.h>",
     "allowed in layer 'storage' only in"),
    ("storage/sqlite/sqlite_store.cpp", "#include <libpq-fe.h>",
     "allowed in layer 'storage' only in"),
]


def self_test(src):
    """On a copy of the tree, each injected forbidden include is reported, and nothing else
    is reported that was not before (so this tests the checker, whatever the tree's state)."""

    def reports(copy):
        run = subprocess.run([sys.executable, __file__, str(copy)], capture_output=True,
                             text=True)
        return run.returncode, [l for l in run.stdout.splitlines() if ": forbidden #include " in l]

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "src"
        shutil.copytree(src, copy)
        _, before = reports(copy)
        for relative, include, _ in SELF_TEST_CASES:
            path = copy / relative
            path.write_text(include + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
        code, after = reports(copy)
        # Injecting at the top shifts the old reports' line numbers; compare them without.
        unnumbered = lambda l: re.sub(r"^([^:]+):\d+:", r"\1:", l)
        new = [l for l in after if unnumbered(l) not in {unnumbered(b) for b in before}]
        print("\n".join(new))
        if code == 0:
            print("self-test FAILED: the checker accepted the injected includes")
            ok = False
        for relative, include, expected in SELF_TEST_CASES:
            if not any(l.startswith(f"src/{relative}:") and include.split(None, 1)[1] in l and
                       expected in l for l in new):
                print(f"self-test FAILED: no report of {include} in src/{relative} "
                      f"saying \"{expected}\"")
                ok = False
        if len(new) != len(SELF_TEST_CASES):
            print(f"self-test FAILED: {len(new)} new reports for {len(SELF_TEST_CASES)} injected "
                  "includes")
            ok = False
    print("self-test passed" if ok else "self-test failed")
    return ok


def main(argv):
    default_src = Path(__file__).resolve().parents[2] / "src"
    if argv[1:2] == ["--self-test"]:
        return 0 if self_test(Path(argv[2]) if len(argv) > 2 else default_src) else 1
    return 1 if check(Path(argv[1]) if len(argv) > 1 else default_src) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
