#!/usr/bin/env bash
# Verifies a release ZIP of the add-in:
#   package/check.sh [target/package/TelegramAddin-<version>.zip]
#
# - MANIFEST.XML is a 1C add-in bundle with exactly the four native components
#   (Windows i386/x86_64, Linux i386/x86_64), every path is in the ZIP and every
#   library in the ZIP is in the manifest; the stamped version is Cargo.toml's;
# - each library has the architecture its manifest entry claims (objdump -f);
# - Windows DLLs import only system DLLs (no libgcc, libwinpthread, libstdc++,
#   OpenSSL, api-ms-win-* sets that Windows 7 / Wine lack);
# - Linux .so files need no GLIBC symbol newer than 2.17 and have no libssl,
#   libcrypto, libgcc_s or libstdc++ in NEEDED;
# - each library exports exactly the five Native API functions;
# - each library is at most 7 MiB (the goal is 6 MiB; Linux x64 is 6.6 MiB since binding,
#   delivery and reliability landed, 5 MiB of it the static OpenSSL: see package/README.md).
# Prints a table; exits non-zero with the reasons when anything fails.
# Needs python3 and binutils (objdump; Debian's handles ELF and PE).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ZIP=${1:-$ROOT/target/package/TelegramAddin.zip}
[ -f "$ZIP" ] || { echo "check.sh: no such ZIP: $ZIP" >&2; exit 2; }
command -v objdump >/dev/null || { echo "check.sh: objdump not found (apt-get install binutils)" >&2; exit 2; }

exec python3 - "$ZIP" "$ROOT/Cargo.toml" <<'EOF'
import os, re, subprocess, sys, tempfile, tomllib, zipfile
import xml.etree.ElementTree as ET

zip_path, cargo_toml = sys.argv[1], sys.argv[2]
NS = "{http://v8.1c.ru/8.2/addin/bundle}"
EXPORTS = {"GetClassNames", "GetClassObject", "DestroyObject", "SetPlatformCapabilities", "GetAttachType"}
MAX_SIZE = 7 * 1024 * 1024
MAX_GLIBC = (2, 17)
# objdump -f "file format" for each (os, arch) of the manifest.
FORMATS = {
    ("Windows", "i386"): "pei-i386",
    ("Windows", "x86_64"): "pei-x86-64",
    ("Linux", "i386"): "elf32-i386",
    ("Linux", "x86_64"): "elf64-x86-64",
}
# DLLs present on every Windows since 7 (and in Wine). Anything else fails.
WIN_SYSTEM_DLLS = {
    "kernel32.dll", "ntdll.dll", "advapi32.dll", "ws2_32.dll", "secur32.dll", "crypt32.dll",
    "msvcrt.dll", "user32.dll", "bcrypt.dll", "ncrypt.dll", "userenv.dll", "shell32.dll",
    "ole32.dll", "oleaut32.dll", "iphlpapi.dll", "dnsapi.dll", "mswsock.dll", "shlwapi.dll",
    "rpcrt4.dll", "wldap32.dll", "normaliz.dll", "winhttp.dll", "version.dll", "psapi.dll",
}
# glibc's own libraries; anything else in NEEDED fails.
LINUX_SYSTEM_LIBS = {
    "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1",
    "ld-linux-x86-64.so.2", "ld-linux.so.2",
}

failures = []
def fail(msg):
    failures.append(msg)

def run(*args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout

with open(cargo_toml, "rb") as f:
    version = tomllib.load(f)["package"]["version"]

tmp = tempfile.mkdtemp(prefix="addin-check-")
with zipfile.ZipFile(zip_path) as z:
    names = z.namelist()
    bad = z.testzip()
    if bad:
        fail(f"ZIP member {bad} is corrupt")
    z.extractall(tmp)

# --- manifest ------------------------------------------------------------------------
components = []
if "MANIFEST.XML" not in names:
    fail("MANIFEST.XML is missing from the ZIP (1C looks for exactly this name)")
else:
    text = open(os.path.join(tmp, "MANIFEST.XML"), encoding="utf-8").read()
    if "@VERSION@" in text:
        fail("MANIFEST.XML was not stamped (@VERSION@ left)")
    elif version not in text:
        fail(f"MANIFEST.XML does not mention version {version} of Cargo.toml")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        fail(f"MANIFEST.XML is not well-formed XML: {e}")
        root = None
    if root is not None:
        if root.tag != NS + "bundle":
            fail(f"MANIFEST.XML root is {root.tag}, expected {NS}bundle")
        for c in root:
            if c.tag != NS + "component":
                fail(f"unexpected element {c.tag} in MANIFEST.XML")
                continue
            components.append(c.attrib)

seen = set()
for c in components:
    key = (c.get("os"), c.get("arch"))
    if c.get("type") != "native":
        fail(f"component {c.get('path')} has type={c.get('type')!r}, expected native")
    if key not in FORMATS:
        fail(f"component {c.get('path')} has unknown os/arch {key}")
    if key in seen:
        fail(f"two components for {key}")
    seen.add(key)
    if c.get("path") not in names:
        fail(f"MANIFEST.XML names {c.get('path')}, which is not in the ZIP")
for key in FORMATS:
    if key not in seen:
        fail(f"MANIFEST.XML has no component for {key[0]} {key[1]}")
listed = {c.get("path") for c in components}
for n in names:
    if n != "MANIFEST.XML" and n not in listed:
        fail(f"{n} is in the ZIP but not in MANIFEST.XML")

# --- libraries -------------------------------------------------------------------------
rows = []
for c in components:
    path, key = c.get("path"), (c.get("os"), c.get("arch"))
    full = os.path.join(tmp, path or "")
    if not path or not os.path.isfile(full):
        continue
    row = {"file": path, "os/arch": f"{key[0]} {key[1]}"}
    size = os.path.getsize(full)
    row["size"] = f"{size / 1048576:.2f} MiB"
    if size > MAX_SIZE:
        fail(f"{path}: {size} bytes, more than 7 MiB")

    m = re.search(r"file format (\S+)", run("objdump", "-f", full))
    fmt = m.group(1) if m else "?"
    row["format"] = fmt
    if fmt != FORMATS.get(key):
        fail(f"{path}: file format {fmt}, expected {FORMATS.get(key)} for {key[0]} {key[1]}")

    if fmt.startswith("pei-"):
        p = run("objdump", "-p", full)
        dlls = sorted({d.lower() for d in re.findall(r"DLL Name: (\S+)", p)})
        foreign = [d for d in dlls if d not in WIN_SYSTEM_DLLS]
        if foreign:
            fail(f"{path}: imports non-system DLLs {foreign}")
        row["deps"] = ",".join(d.removesuffix(".dll") for d in dlls)
        # The export name table: lines "\t[   0] Name" after "[Ordinal/Name Pointer] Table".
        table = p.split("[Ordinal/Name Pointer] Table", 1)
        exports = set(re.findall(r"^\s*\[\s*\d+\]\s+(\S+)", table[1], re.M)) if len(table) == 2 else set()
        row["glibc"] = "-"
    else:
        p = run("objdump", "-p", full)
        needed = re.findall(r"NEEDED\s+(\S+)", p)
        foreign = [n for n in needed if n not in LINUX_SYSTEM_LIBS]
        if foreign:
            fail(f"{path}: NEEDED has non-system libraries {foreign}")
        row["deps"] = ",".join(n.split(".so")[0] for n in needed)
        versions = set(re.findall(r"GLIBC_(\d+(?:\.\d+)*)", run("objdump", "-T", full)))
        newest = max((tuple(int(x) for x in v.split(".")) for v in versions), default=(0,))
        row["glibc"] = ".".join(map(str, newest))
        if newest > MAX_GLIBC:
            too_new = sorted(v for v in versions if tuple(int(x) for x in v.split(".")) > MAX_GLIBC)
            fail(f"{path}: needs GLIBC {', '.join(too_new)} (> 2.17)")
        exports = set()
        for line in run("nm", "-D", "--defined-only", full).splitlines():
            parts = line.split()
            if len(parts) >= 3:
                exports.add(parts[2].split("@")[0])
    row["exports"] = str(len(exports))
    if exports != EXPORTS:
        extra, missing = sorted(exports - EXPORTS), sorted(EXPORTS - exports)
        fail(f"{path}: exports differ from the five: extra {extra[:10]}{'...' if len(extra) > 10 else ''}, missing {missing}")
    rows.append(row)

cols = ["file", "os/arch", "format", "size", "glibc", "exports", "deps"]
widths = {k: max(len(k), *(len(r.get(k, "")) for r in rows)) if rows else len(k) for k in cols}
print(f"{os.path.basename(zip_path)}: version {version}, {len(names)} files")
print("  ".join(k.ljust(widths[k]) for k in cols))
for r in rows:
    print("  ".join(r.get(k, "").ljust(widths[k]) for k in cols))
if failures:
    print(f"\nFAILED: {len(failures)} problem(s)", file=sys.stderr)
    for f in failures:
        print(f"  - {f}", file=sys.stderr)
    sys.exit(1)
print("OK: manifest, architectures, dependencies, glibc <= 2.17, five exports, sizes <= 7 MiB")
EOF
